/**
 * The office's public log, checked in the browser: the signed checkpoint (Ed25519 with
 * libsodium, against the publisher key of the verified keys.json) and the inclusion of the
 * reporter's receipts, computed from the log's tiles (SHA-256 by WebCrypto). The same rules as
 * lianxin/tlog (RFC 6962 trees, C2SP signed-note, tlog-checkpoint, tlog-tiles).
 */

const enc = new TextEncoder();
const WIDTH = 256;

async function sha256(...parts) {
  const size = parts.reduce((n, p) => n + p.length, 0);
  const data = new Uint8Array(size);
  let at = 0;
  for (const p of parts) { data.set(p, at); at += p.length; }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
}
const node = (l, r) => sha256(Uint8Array.of(1), l, r);
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const fromB64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
/** The largest power of two smaller than n (n >= 2), as RFC 6962 splits a tree. */
function split(n) {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}
const fromHex = (s) => Uint8Array.from(s.match(/../g) ?? [], (x) => parseInt(x, 16));

export class LogError extends Error {}

/** The leaf hash of the entry committing to a receipt id (lianxin/tlog/entries.py). */
export async function receiptLeaf(receiptId) {
  const commitment = await sha256(enc.encode("lianxin/v1/log/receipt\n"), receiptId);
  return sha256(Uint8Array.of(0, 1), commitment);
}

/** Parse and verify a checkpoint note signed by `publicKey` under its own origin. */
export async function openCheckpoint(sodium, text, publicKey) {
  const split = text.lastIndexOf("\n\n");
  if (split < 0 || !text.endsWith("\n")) throw new LogError("the checkpoint is not a signed note");
  const body = text.slice(0, split + 1);
  const [origin, sizeText, rootText] = body.split("\n");
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText ?? "")) throw new LogError("bad checkpoint size");
  const root = fromB64(rootText);
  if (root.length !== 32) throw new LogError("bad checkpoint root hash");
  const id = (await sha256(enc.encode(`${origin}\n`), Uint8Array.of(1), publicKey)).slice(0, 4);
  for (const line of text.slice(split + 2).split("\n")) {
    if (!line.startsWith(`\u2014 ${origin} `)) continue;
    const raw = fromB64(line.slice(origin.length + 3));
    if (raw.length !== 68 || !same(raw.slice(0, 4), id)) continue;
    if (!sodium.crypto_sign_verify_detached(raw.slice(4), enc.encode(body), publicKey)) {
      throw new LogError("the checkpoint's signature does not verify");
    }
    return { origin, size: Number(sizeText), root, body, text };
  }
  throw new LogError("the checkpoint is not signed by the publisher key");
}

/**
 * The witnesses (vkeys, type 0x04) that cosigned the checkpoint (tlog-cosignature v1);
 * throws unless at least `quorum` of them did.
 */
export async function checkCosignatures(sodium, checkpoint, witnesses, quorum) {
  const lines = checkpoint.text.slice(checkpoint.body.length + 1).split("\n");
  const signed = [];
  for (const vkey of witnesses ?? []) {
    const [name, idHex, keyB64] = vkey.split("+");
    const material = fromB64(keyB64 ?? "");
    if (material.length !== 33 || material[0] !== 4) throw new LogError(`bad witness key ${name}`);
    const key = material.slice(1);
    const id = (await sha256(enc.encode(`${name}\n`), Uint8Array.of(4), key)).slice(0, 4);
    if (!same(id, fromHex(idHex ?? ""))) throw new LogError(`bad witness key ${name}`);
    for (const line of lines) {
      if (!line.startsWith(`\u2014 ${name} `)) continue;
      const raw = fromB64(line.slice(name.length + 3));
      if (raw.length !== 76 || !same(raw.slice(0, 4), id)) continue;
      const time = new DataView(raw.buffer, raw.byteOffset + 4, 8).getBigUint64(0);
      const message = enc.encode(`cosignature/v1\ntime ${time}\n${checkpoint.body}`);
      if (sodium.crypto_sign_verify_detached(raw.slice(12), message, key)) signed.push(name);
    }
  }
  if (signed.length < quorum) {
    throw new LogError(`cosigned by ${signed.length} of the ${quorum} witnesses required`);
  }
  return signed;
}

/** Hashes of complete subtrees, read from tiles fetched once each. */
class Tiles {
  constructor(fetchBytes, size) { this.fetchBytes = fetchBytes; this.size = size; this.cache = new Map(); }

  static path(level, n, width) {
    let digits = String(n).padStart(3, "0");
    digits = "0".repeat((3 - (digits.length % 3)) % 3) + digits;
    const groups = digits.match(/.../g);
    const name = groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join("/");
    return `log/tile/${level}/${name}${width === WIDTH ? "" : `.p/${width}`}`;
  }

  async tile(level, n) {
    const width = Math.min(WIDTH, Math.floor(this.size / 2 ** (8 * level)) - n * WIDTH);
    if (width <= 0) throw new LogError(`tile ${level}/${n} is outside the tree`);
    const path = Tiles.path(level, n, width);
    if (!this.cache.has(path)) {
      const data = await this.fetchBytes(path);
      if (data.length !== 32 * width) throw new LogError(`${path}: wrong size`);
      this.cache.set(path, data);
    }
    return this.cache.get(path);
  }

  async hash(level, index) {
    const base = level - (level % 8);
    const height = level - base;
    const first = index * 2 ** height;
    const data = await this.tile(base / 8, Math.floor(first / WIDTH));
    const offset = first % WIDTH;
    let hashes = [];
    for (let i = offset; i < offset + 2 ** height; i++) hashes.push(data.slice(32 * i, 32 * i + 32));
    while (hashes.length > 1) {
      const next = [];
      for (let i = 0; i < hashes.length; i += 2) next.push(await node(hashes[i], hashes[i + 1]));
      hashes = next;
    }
    return hashes[0];
  }

  async subtree(lo, hi) {
    const n = hi - lo;
    if (n > 0 && (n & (n - 1)) === 0 && lo % n === 0) return this.hash(Math.log2(n), lo / n);
    const k = split(n);
    return node(await this.subtree(lo, lo + k), await this.subtree(lo + k, hi));
  }
}

/** RFC 6962 PATH(index, size) from the tiles, then the RFC 9162 check against `root`. */
export async function verifyInclusion(fetchBytes, leaf, index, size, root) {
  if (!(index >= 0 && index < size)) throw new LogError(`entry ${index} is outside the log`);
  const tiles = new Tiles(fetchBytes, size);
  const proof = [];
  let lo = 0;
  let hi = size;
  while (hi - lo > 1) {
    const k = split(hi - lo);
    if (index - lo < k) { proof.push(await tiles.subtree(lo + k, hi)); hi = lo + k; }
    else { proof.push(await tiles.subtree(lo, lo + k)); lo += k; }
  }
  proof.reverse();
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (fn % 2 === 1 || fn === sn) {
      r = await node(p, r);
      while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      r = await node(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0 || !same(r, root)) throw new LogError(`entry ${index} is not in the signed tree`);
}

const TEXT = {
  zh: {
    ok: (i, n) => `您的回执是本机关公开日志的第 ${i} 条（已对照其签名检查点验证，日志共 ${n} 条）。`,
    bad: (detail) => `无法验证本机关公开日志：${detail}`,
  },
  en: {
    ok: (i, n) => `Your receipt is entry ${i} of the office's public log (verified against its signed checkpoint of ${n} entries).`,
    bad: (detail) => `The office's public log does not verify: ${detail}`,
  },
};

async function siteSodium() {
  const module = await import("./vendor/libsodium-wrappers.mjs");
  return module.default;
}

/**
 * Check the token's entries (`status.log`, [{i, r}]): one line `{ok, text}` per entry, or one
 * line saying why the log does not verify. `fetchBytes(path)` reads a file of this site;
 * `loadSodium` gives libsodium-wrappers (the site's own copy by default).
 */
export async function checkEntries(entries, publicKey, fetchBytes, lang, loadSodium = siteSodium) {
  const say = TEXT[lang] ?? TEXT.en;
  if (!entries?.length) return [];
  try {
    const sodium = await loadSodium();
    await sodium.ready;
    const note = new TextDecoder().decode(await fetchBytes("log/checkpoint"));
    const checkpoint = await openCheckpoint(sodium, note, publicKey);
    let policy = { witnesses: [], quorum: 0 };
    try {
      policy = JSON.parse(new TextDecoder().decode(await fetchBytes("log/policy.json")));
    } catch {
      // a site without a witness policy: the publisher's signature alone
    }
    await checkCosignatures(sodium, checkpoint, policy.witnesses, Number(policy.quorum ?? 0));
    const lines = [];
    for (const { i, r } of entries) {
      await verifyInclusion(fetchBytes, await receiptLeaf(fromHex(r)), i, checkpoint.size,
        checkpoint.root);
      lines.push({ ok: true, text: say.ok(i, checkpoint.size) });
    }
    return lines;
  } catch (err) {
    return [{ ok: false, text: say.bad(err.message ?? String(err)) }];
  }
}
