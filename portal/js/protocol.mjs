/**
 * The Lianxin protocol, client side, in JavaScript (browser and Node).
 *
 * This is the same protocol as the Python package `lianxin.protocol`; the byte layouts are
 * documented there and on the portal's protocol page, and `tests/vectors/protocol-v1.json`
 * holds known-answer vectors that both implementations check.
 *
 * Crypto comes from the standard (not sumo) libsodium-wrappers build, passed in so that the
 * same file runs in Node and in a page that serves libsodium from its own origin:
 *
 *     import sodium from "libsodium-wrappers";
 *     await sodium.ready;
 *     const lx = createProtocol(sodium);
 *     const { envelope } = lx.sealReport(doc, [], { officeKey, officeKeyId });
 *
 * Functions that need no crypto (token syntax, padding, length prefixes, payload packing,
 * document checks) are also exported on their own.
 */

export const VERSION = 1;
export const TOKEN_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
export const TOKEN_DATA_SYMBOLS = 27;
export const TOKEN_GROUP = 4;
export const MIN_BUCKET = 4096;
export const STATUS_BLOCK = 128;
export const SEAL_OVERHEAD = 48;
export const CHALLENGE_SIZE = 42;
export const MAX_POW_ANSWER = 2 ** 53;
export const SCHEMAS = Object.freeze({
  report: "lianxin/report/v1",
  followup: "lianxin/followup/v1",
  answer: "lianxin/answer/v1",
  sent: "lianxin/sent/v1",
});
/** The kinds of `lianxin/sent/v1` record (§7.4); a reader ignores a record of another kind. */
export const SENT_KINDS = Object.freeze(["report", "material", "satisfaction"]);

const DOMAIN = Object.freeze({
  token: "lianxin/token/v1",
  envelope: "lianxin/v1/envelope",
  receiptId: "lianxin/v1/receipt-id",
  receipt: "lianxin/v1/receipt",
  keyring: "lianxin/v1/keyring",
  powBinding: "lianxin/v1/pow-binding",
});
const TOKEN_ALIASES = { O: "0", I: "1", L: "1" };
const KEY_ID = /^[0-9a-f]{16}$/;
const LOOKUP_ID = /^[0-9a-f]{32}$/;
const RECEIPT_ID = /^[0-9a-f]{64}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const RATINGS = ["satisfied", "basically", "not"];
const ENVELOPE_FIELDS = {
  report: ["v", "kind", "key_id", "client_pk", "ciphertext", "sig"],
  followup: ["v", "kind", "key_id", "lookup_id", "ciphertext", "sig"],
};
const MAX_TITLE = 200;
const MAX_TEXT = 100_000;
const MAX_SHORT = 200;
const MAX_ATTACHMENT_NAME = 255;
// A media type as RFC 6838 names one (type "/" subtype, 127 characters each), no parameters.
const MEDIA_TOKEN = "[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}";
const MEDIA_TYPE = new RegExp(`^${MEDIA_TOKEN}/${MEDIA_TOKEN}$`);
// Python's str.isspace() set, so that "blank" and "separator" mean the same on both sides
// (String.prototype.trim() also strips U+FEFF and keeps U+001C..U+001F and U+0085).
const PY_SPACE = String.raw`\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a`
  + String.raw`\u2028\u2029\u202f\u205f\u3000`;
const BLANK = new RegExp(`^[${PY_SPACE}]*$`);
const TOKEN_SEPARATOR = new RegExp(`^[${PY_SPACE}\\-\u2010\u2011\u2012\u2013\u2014]$`);

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder("utf-8", { fatal: true });

// --- errors -----------------------------------------------------------------------------

/** Root of every protocol error; `slug` matches the Python error slugs. */
export class ProtocolError extends Error {
  /** @param {string} message @param {string} [slug] */
  constructor(message, slug = "protocol-error") {
    super(message);
    this.name = new.target.name;
    this.slug = slug;
  }
}
/** A field is missing, of the wrong type, or of the wrong length. */
export class MalformedError extends ProtocolError {
  constructor(message, slug = "bad-field") { super(message, slug); }
}
/** A typed token is not well formed (`token-format`) or has a typo (`token-check`). */
export class TokenError extends ProtocolError {
  constructor(message, slug = "token-format") { super(message, slug); }
}
/** A signature (envelope, receipt, published keys) does not verify. */
export class SignatureError extends ProtocolError {
  constructor(message, slug = "bad-signature") { super(message, slug); }
}
/** A document or payload is not well formed. */
export class PayloadError extends ProtocolError {
  constructor(message, slug = "bad-payload") { super(message, slug); }
}
/** Sealed data cannot be opened with the key given. */
export class DecryptionError extends ProtocolError {
  constructor(message, slug = "cannot-open") { super(message, slug); }
}
/** A proof-of-work challenge cannot be decoded or solved. */
export class ProofOfWorkError extends ProtocolError {
  constructor(message, slug = "pow-invalid") { super(message, slug); }
}

// --- bytes ------------------------------------------------------------------------------

/**
 * Concatenate byte arrays.
 * @param {...Uint8Array} parts
 * @returns {Uint8Array}
 */
export function concatBytes(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** @param {string | Uint8Array} item @returns {Uint8Array} */
function asBytes(item) {
  if (typeof item === "string") return utf8.encode(item);
  if (item instanceof Uint8Array) return item;
  throw new TypeError("expected a string or a Uint8Array");
}

/** @param {number} n @returns {Uint8Array} four bytes, big-endian */
function u32be(n) {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

/**
 * Length-prefixed encoding: `u32be(len(x)) || x` for each item (strings as UTF-8).
 * @param {...(string | Uint8Array)} items
 * @returns {Uint8Array}
 */
export function lp(...items) {
  return concatBytes(...items.flatMap((item) => {
    const bytes = asBytes(item);
    return [u32be(bytes.length), bytes];
  }));
}

/** Lower-case hex of bytes. @param {Uint8Array} bytes @returns {string} */
export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Bytes of a hex string. @param {string} text @returns {Uint8Array} */
export function fromHex(text) {
  if (typeof text !== "string" || !/^(?:[0-9a-fA-F]{2})*$/.test(text)) {
    throw new MalformedError("expected an even number of hex digits");
  }
  return Uint8Array.from(text.match(/../g) ?? [], (h) => parseInt(h, 16));
}

/** Constant-time-enough comparison of two byte arrays of public data. */
function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

// --- tokens -----------------------------------------------------------------------------

/**
 * Luhn mod 32 check symbol over token symbols.
 * @param {string} data symbols of TOKEN_ALPHABET
 * @returns {string} one symbol
 */
export function checkSymbol(data) {
  const n = TOKEN_ALPHABET.length;
  let total = 0;
  let factor = 2;
  for (let i = data.length - 1; i >= 0; i--) {
    const addend = factor * TOKEN_ALPHABET.indexOf(data[i]);
    factor = factor === 2 ? 1 : 2;
    total += Math.floor(addend / n) + (addend % n);
  }
  return TOKEN_ALPHABET[(n - (total % n)) % n];
}

/**
 * Read a typed token the forgiving Crockford way: fold full-width forms (NFKC, as Chinese
 * input methods type them), ignore case, dashes and white space (Python's str.isspace());
 * read O as 0 and I, L as 1. Only ASCII letters are upper-cased, so no letter turns into two.
 * @param {string} text
 * @returns {string} the symbols, check symbol included
 * @throws {TokenError} `token-format` on a symbol outside the alphabet
 */
export function normalizeToken(text) {
  let out = "";
  for (let char of String(text).normalize("NFKC")) {
    if (TOKEN_SEPARATOR.test(char)) continue;
    if (char < "\u0080") char = char.toUpperCase();
    char = TOKEN_ALIASES[char] ?? char;
    if (!TOKEN_ALPHABET.includes(char)) {
      const shown = JSON.stringify(char);
      throw new TokenError(`the token contains ${shown}, which is not a token symbol`);
    }
    out += char;
  }
  return out;
}

/**
 * Parse a typed token and check its check symbol.
 * @param {string} text
 * @returns {string} the 27 data symbols
 * @throws {TokenError} `token-format` (foreign symbol, wrong length) or `token-check` (typo)
 */
export function parseToken(text) {
  const symbols = normalizeToken(text);
  if (symbols.length !== TOKEN_DATA_SYMBOLS + 1) {
    throw new TokenError(
      `a token has ${TOKEN_DATA_SYMBOLS + 1} symbols, this one has ${symbols.length}`,
    );
  }
  const data = symbols.slice(0, -1);
  if (checkSymbol(data) !== symbols.slice(-1)) {
    throw new TokenError(
      "the token's check symbol does not match: a symbol was mistyped",
      "token-check",
    );
  }
  return data;
}

/**
 * The written form of a token: data and check symbol in groups of four (`7KQ2-M9XD-...`).
 * @param {string} token the 27 data symbols, or any typed form of the token
 * @returns {string}
 * @throws {TokenError} if `token` is neither
 */
export function formatToken(token) {
  const isData = token.length === TOKEN_DATA_SYMBOLS
    && [...token].every((c) => TOKEN_ALPHABET.includes(c));
  const data = isData ? token : parseToken(token);
  const full = data + checkSymbol(data);
  const groups = [];
  for (let i = 0; i < full.length; i += TOKEN_GROUP) groups.push(full.slice(i, i + TOKEN_GROUP));
  return groups.join("-");
}

// --- padding ----------------------------------------------------------------------------

/** Number of bits needed to write n (n >= 0), like Python's int.bit_length(). */
function bitLength(n) {
  let bits = 0;
  while (n >= 1) {
    n = Math.floor(n / 2);
    bits++;
  }
  return bits;
}

/**
 * Padmé bucket size (with a floor of MIN_BUCKET) for a padded length, header included.
 * Arithmetic, not bitwise operators, so lengths above 2^31 stay exact.
 * @param {number} length
 * @returns {number}
 */
export function bucket(length) {
  if (length <= MIN_BUCKET) return MIN_BUCKET;
  const exponent = bitLength(length) - 1;
  const lastBits = exponent - bitLength(exponent);
  const step = 2 ** lastBits;
  return Math.ceil(length / step) * step;
}

/**
 * `u32be(len) || plaintext || zeros` up to `bucket(len + 4)`.
 * @param {Uint8Array} plaintext
 * @returns {Uint8Array}
 */
export function pad(plaintext) {
  const out = new Uint8Array(bucket(plaintext.length + 4));
  out.set(u32be(plaintext.length), 0);
  out.set(plaintext, 4);
  return out;
}

/**
 * Undo `pad`, checking the framing, the bucket size and that the padding is zero.
 * @param {Uint8Array} padded
 * @returns {Uint8Array}
 * @throws {PayloadError}
 */
export function unpad(padded) {
  if (padded.length < 4) throw new PayloadError("padded payload shorter than its length header");
  const length = new DataView(padded.buffer, padded.byteOffset, 4).getUint32(0);
  if (length > padded.length - 4) {
    throw new PayloadError("padded payload shorter than its declared length");
  }
  if (padded.length !== bucket(length + 4)) {
    throw new PayloadError("padded payload is not of its bucket size");
  }
  if (padded.subarray(4 + length).some((b) => b !== 0)) {
    throw new PayloadError("padding bytes are not zero");
  }
  return padded.slice(4, 4 + length);
}

/**
 * Compact padding for short items sealed to a reply key (answers, status rows):
 * `u32be(len) || data || zeros` up to the next multiple of `block`.
 * @param {Uint8Array} data
 * @param {number} [block]
 * @returns {Uint8Array}
 */
export function padBlock(data, block = STATUS_BLOCK) {
  const out = new Uint8Array(Math.ceil((data.length + 4) / block) * block);
  out.set(u32be(data.length), 0);
  out.set(data, 4);
  return out;
}

/**
 * Undo `padBlock`, checking whole blocks, the length header and zero padding.
 * @param {Uint8Array} padded
 * @param {number} [block]
 * @returns {Uint8Array}
 * @throws {PayloadError}
 */
export function unpadBlock(padded, block = STATUS_BLOCK) {
  if (padded.length < 4 || padded.length % block) {
    throw new PayloadError("block-padded data is not a whole number of blocks");
  }
  const length = new DataView(padded.buffer, padded.byteOffset, 4).getUint32(0);
  if (length > padded.length - 4 || padded.length - 4 - length >= block) {
    throw new PayloadError("block-padded data has a wrong length header");
  }
  if (padded.subarray(4 + length).some((b) => b !== 0)) {
    throw new PayloadError("padding bytes are not zero");
  }
  return padded.slice(4, 4 + length);
}

// --- payload ----------------------------------------------------------------------------

/** Compare strings by code point, as Python's sorted() does for str. */
function byCodePoint(a, b) {
  const x = Array.from(a, (c) => c.codePointAt(0));
  const y = Array.from(b, (c) => c.codePointAt(0));
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i] - y[i];
  }
  return x.length - y.length;
}

/**
 * JSON text spelled as Python's `json.dumps(v, sort_keys=True, separators=(",", ":"),
 * ensure_ascii=False)` for strings, booleans, null, integers, arrays and objects, so that a
 * document packs to the same bytes in both implementations.
 * @param {unknown} value
 * @returns {string}
 * @throws {PayloadError} on a non-integer number or a value JSON cannot hold
 */
export function canonicalJson(value) {
  if (value === null || typeof value === "boolean" || typeof value === "string") {
    return JSON.stringify(value);
  }
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) {
      throw new PayloadError("documents hold only integers between -(2^53-1) and 2^53-1");
    }
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object") {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort(byCodePoint);
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(",")}}`;
  }
  throw new PayloadError(`a document cannot hold a ${typeof value}`);
}

/**
 * An attachment: a file's name, media type and bytes.
 * @typedef {{ name: string, type: string, data: Uint8Array }} Attachment
 */

/**
 * `u32be(len(doc)) || doc (UTF-8 JSON) || attachment bytes...`; the document's
 * `attachments` list is written here from the attachments given.
 * @param {Record<string, unknown>} doc
 * @param {Attachment[]} [attachments]
 * @returns {Uint8Array}
 */
export function packPayload(doc, attachments = []) {
  if (!Object.values(SCHEMAS).includes(doc.schema)) {
    throw new PayloadError(`schema must be one of ${Object.values(SCHEMAS).join(", ")}`);
  }
  attachments.forEach((a, i) => checkAttachment(i, a.name, a.type));
  const described = attachments.map((a) => ({ name: a.name, type: a.type, size: a.data.length }));
  const body = utf8.encode(canonicalJson({ ...doc, attachments: described }));
  return concatBytes(u32be(body.length), body, ...attachments.map((a) => a.data));
}

/**
 * Refuse an attachment name or media type outside the protocol's limits (§8.1), as
 * `lianxin.protocol.payload.check_attachment` does.
 * @param {number} index
 * @param {unknown} name
 * @param {unknown} type
 * @throws {PayloadError}
 */
export function checkAttachment(index, name, type) {
  const where = `attachments[${index}]`;
  // Python counts code points, not UTF-16 units.
  const length = typeof name === "string" ? [...name].length : 0;
  if (length < 1 || length > MAX_ATTACHMENT_NAME) {
    throw new PayloadError(`${where}.name: expected 1 to ${MAX_ATTACHMENT_NAME} characters`);
  }
  if (/\p{Cc}/u.test(name)) throw new PayloadError(`${where}.name: contains a control character`);
  if (typeof type !== "string" || !MEDIA_TYPE.test(type)) {
    throw new PayloadError(`${where}.type: expected a media type such as application/pdf`);
  }
}

/** @param {unknown} entry */
function isAttachmentEntry(entry) {
  return entry !== null && typeof entry === "object" && !Array.isArray(entry)
    && typeof entry.name === "string" && typeof entry.type === "string"
    && Number.isSafeInteger(entry.size) && entry.size >= 0;
}

/**
 * Decode `packPayload`'s output. With `anySchema`, a document of a type this module does not
 * know is decoded too (its `schema` must still be a string): the items of a status row (§13.3).
 * @param {Uint8Array} data
 * @param {{ anySchema?: boolean }} [options]
 * @returns {{ doc: Record<string, any>, attachments: Attachment[] }}
 * @throws {PayloadError}
 */
export function unpackPayload(data, { anySchema = false } = {}) {
  if (data.length < 4) throw new PayloadError("payload shorter than its header");
  const docLength = new DataView(data.buffer, data.byteOffset, 4).getUint32(0);
  if (docLength > data.length - 4) throw new PayloadError("payload shorter than its document");
  let doc;
  try {
    doc = JSON.parse(utf8Strict.decode(data.subarray(4, 4 + docLength)));
  } catch {
    throw new PayloadError("payload document is not UTF-8 JSON");
  }
  const known = doc !== null && typeof doc === "object" && !Array.isArray(doc)
    && (Object.values(SCHEMAS).includes(doc.schema) || (anySchema && typeof doc.schema === "string"));
  if (!known) {
    throw new PayloadError("payload document has no known schema");
  }
  const entries = "attachments" in doc ? doc.attachments : [];
  if (!Array.isArray(entries)) throw new PayloadError("attachments must be a list");
  const rest = data.subarray(4 + docLength);
  let offset = 0;
  const attachments = entries.map((entry, i) => {
    if (!isAttachmentEntry(entry)) {
      throw new PayloadError(`attachments[${i}] must have name, type and size`);
    }
    checkAttachment(i, entry.name, entry.type);
    if (offset + entry.size > rest.length) {
      throw new PayloadError(`attachments[${i}] runs past the end of the payload`);
    }
    const data = rest.slice(offset, offset + entry.size);
    offset += entry.size;
    return { name: entry.name, type: entry.type, data };
  });
  if (offset !== rest.length) throw new PayloadError("payload has bytes after its last attachment");
  return { doc, attachments };
}

// --- documents --------------------------------------------------------------------------

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function onlyFields(doc, path, allowed) {
  const extra = Object.keys(doc).filter((k) => !allowed.includes(k)).sort(byCodePoint);
  if (extra.length) throw new PayloadError(`${path}${extra[0]}: unknown field`);
}

function text(doc, path, key, limit, required) {
  const value = doc[key] ?? "";
  if (typeof value !== "string") throw new PayloadError(`${path}${key}: expected text`);
  if (required && BLANK.test(value)) throw new PayloadError(`${path}${key}: required`);
  // Python counts code points, not UTF-16 units.
  if ([...value].length > limit) {
    throw new PayloadError(`${path}${key}: longer than ${limit} characters`);
  }
  return value;
}

/**
 * Check a report document exactly as `lianxin.protocol.documents.validate_report` does and
 * return it normalised (missing optional text as ""). Checking here matters: the gateway
 * cannot read the report, so a bad one would only be found by the office.
 * @param {Record<string, any>} doc
 * @returns {Record<string, any>}
 * @throws {PayloadError} naming the field
 */
export function validateReport(doc) {
  if (!isObject(doc) || doc.schema !== SCHEMAS.report) {
    throw new PayloadError(`schema: expected '${SCHEMAS.report}'`);
  }
  onlyFields(doc, "", ["schema", "real_name", "identity", "reported", "region",
    "problem_type", "title", "text", "attachments", "lang"]);
  // Absent means false, but an explicit null is refused, as in Python (dict.get default).
  const realName = "real_name" in doc ? doc.real_name : false;
  if (typeof realName !== "boolean") throw new PayloadError("real_name: expected true or false");
  const out = { schema: SCHEMAS.report, real_name: realName };
  const identity = doc.identity;
  if (realName) {
    if (!isObject(identity)) throw new PayloadError("identity: required for a real-name report");
    onlyFields(identity, "identity.", ["name", "contact", "id_number"]);
    out.identity = {
      name: text(identity, "identity.", "name", MAX_SHORT, true),
      contact: text(identity, "identity.", "contact", MAX_SHORT, true),
      id_number: text(identity, "identity.", "id_number", 40, false),
    };
  } else if (!(identity == null || (isObject(identity) && Object.keys(identity).length === 0))) {
    throw new PayloadError("identity: an anonymous report carries no identity");
  }
  const reported = "reported" in doc ? doc.reported : {};
  if (!isObject(reported)) throw new PayloadError("reported: expected an object");
  onlyFields(reported, "reported.", ["name", "unit", "post", "rank"]);
  out.reported = Object.fromEntries(["name", "unit", "post", "rank"].map(
    (key) => [key, text(reported, "reported.", key, MAX_SHORT, key === "name")],
  ));
  for (const key of ["region", "problem_type", "lang"]) {
    out[key] = text(doc, "", key, MAX_SHORT, false);
  }
  out.title = text(doc, "", "title", MAX_TITLE, true);
  out.text = text(doc, "", "text", MAX_TEXT, true);
  return out;
}

/**
 * Check a follow-up document (additional material or a satisfaction answer) as
 * `validate_followup` does.
 * @param {Record<string, any>} doc
 * @returns {Record<string, any>}
 * @throws {PayloadError}
 */
export function validateFollowup(doc) {
  if (!isObject(doc) || doc.schema !== SCHEMAS.followup) {
    throw new PayloadError(`schema: expected '${SCHEMAS.followup}'`);
  }
  onlyFields(doc, "", ["schema", "type", "rating", "text", "attachments"]);
  const out = { schema: SCHEMAS.followup, type: doc.type };
  if (doc.type === "satisfaction") {
    if (!RATINGS.includes(doc.rating)) {
      throw new PayloadError(`rating: expected one of ${RATINGS.join(", ")}`);
    }
    out.rating = doc.rating;
  } else if (doc.type === "material") {
    // A material follow-up carries no rating: a given one must still be valid, and is dropped.
    if (doc.rating != null && !RATINGS.includes(doc.rating)) {
      throw new PayloadError(`rating: expected one of ${RATINGS.join(", ")}, or none`);
    }
  } else {
    throw new PayloadError("type: expected 'material' or 'satisfaction'");
  }
  out.text = text(doc, "", "text", MAX_TEXT, false);
  return out;
}

// --- envelopes, receipts, proof of work: byte layouts -----------------------------------

/**
 * The bytes an envelope signature covers:
 * `lp("lianxin/v1/envelope", "1", kind, key_id, author, ciphertext)`.
 * @param {{ kind: string, keyId: string, author: Uint8Array, ciphertext: Uint8Array }} e
 * @returns {Uint8Array}
 */
export function envelopeSigningMessage({ kind, keyId, author, ciphertext }) {
  return lp(DOMAIN.envelope, String(VERSION), kind, keyId, author, ciphertext);
}

/**
 * What the envelope's key signs to bind a proof of work to the envelope:
 * `lp("lianxin/v1/pow-binding", challenge (42 bytes), receipt_id)`.
 * @param {Uint8Array} challengeRaw
 * @param {Uint8Array} receiptId
 * @returns {Uint8Array}
 */
export function powBindingMessage(challengeRaw, receiptId) {
  return lp(DOMAIN.powBinding, challengeRaw, receiptId);
}

/**
 * The bytes the gateway signs in a receipt:
 * `lp("lianxin/v1/receipt", "1", receipt_id, kind, received, key_id)`.
 * @param {{ receiptId: Uint8Array, kind: string, received: string, keyId: string }} r
 * @returns {Uint8Array}
 */
export function receiptMessage({ receiptId, kind, received, keyId }) {
  return lp(DOMAIN.receipt, "1", receiptId, kind, received, keyId);
}

/**
 * What the publisher signs: `lp("lianxin/v1/keyring", raw keys.json bytes)`.
 * @param {Uint8Array} keysJson
 * @returns {Uint8Array}
 */
export function keyringSigningMessage(keysJson) {
  return lp(DOMAIN.keyring, keysJson);
}

/**
 * Number of leading zero bits of a digest.
 * @param {Uint8Array} digest
 * @returns {number}
 */
export function leadingZeroBits(digest) {
  let bits = 0;
  for (const byte of digest) {
    if (byte !== 0) return bits + Math.clz32(byte) - 24;
    bits += 8;
  }
  return bits;
}

/** Whether a digest starts with `difficulty` zero bits (the solver's hot path). */
function meetsDifficulty(digest, fullBytes, lastMask) {
  for (let i = 0; i < fullBytes; i++) if (digest[i] !== 0) return false;
  return (digest[fullBytes] & lastMask) === 0;
}

/** Write `answer` (0 <= answer < 2^53) as u64be into `buf` at `offset`. */
function writeU64(buf, offset, answer) {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  view.setUint32(offset, Math.floor(answer / 2 ** 32));
  view.setUint32(offset + 4, answer >>> 0);
}

/** Resolve on the next turn of the event loop, as cheaply as the platform allows. */
function yieldToEventLoop() {
  const scheduler = globalThis.scheduler;
  if (typeof scheduler?.yield === "function") return scheduler.yield();
  if (typeof globalThis.setImmediate === "function") {
    return new Promise((resolve) => globalThis.setImmediate(resolve));
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
}

// --- everything that needs libsodium ---------------------------------------------------

/**
 * Bind the protocol to a ready libsodium-wrappers object (standard build).
 * @param {any} sodium the `libsodium-wrappers` module after `await sodium.ready`
 * @returns the protocol functions (and the crypto-free helpers above)
 */
export function createProtocol(sodium) {
  const B64 = sodium.base64_variants.URLSAFE_NO_PADDING;

  /** URL-safe base64 without padding. @param {Uint8Array} bytes */
  const b64e = (bytes) => sodium.to_base64(bytes, B64);

  /** Decode strict URL-safe base64 without padding, optionally of a fixed size. */
  function b64d(value, field, size) {
    if (typeof value !== "string") {
      throw new MalformedError(`${field}: expected a base64url string`);
    }
    let bytes;
    try {
      bytes = sodium.from_base64(value, B64);
    } catch {
      throw new MalformedError(`${field}: not valid base64url (no padding)`, "bad-base64");
    }
    checkSize(bytes, field, size);
    return bytes;
  }

  function checkSize(bytes, field, size) {
    if (size !== undefined && bytes.length !== size) {
      const detail = `${field}: expected ${size} bytes, got ${bytes.length}`;
      throw new MalformedError(detail, "bad-length");
    }
  }

  /** BLAKE2b (crypto_generichash) of `size` bytes, keyed if `key` is given. */
  const blake2b = (message, size = 32, key = null) =>
    sodium.crypto_generichash(size, asBytes(message), key);

  /** Bytes given as a Uint8Array or as base64url text, optionally of a fixed size. */
  function bytesArg(value, field, size) {
    if (typeof value === "string") return b64d(value, field, size);
    if (!(value instanceof Uint8Array)) {
      throw new TypeError(`${field}: expected bytes or base64url`);
    }
    checkSize(value, field, size);
    return value;
  }

  // --- tokens ---

  /**
   * Derive everything a token holder needs from a typed token:
   * tk = BLAKE2b-256(key="lianxin/token/v1", data symbols); lookup id = BLAKE2b-128(key=tk,
   * "lookup-id"); reply key pair from BLAKE2b-256(key=tk, "reply-key") (crypto_box);
   * follow-up key pair from BLAKE2b-256(key=tk, "followup-key") (Ed25519).
   * The secret halves stay in the browser; never send or store them.
   * @param {string} token the token as typed (grouped or not)
   */
  function deriveTokenKeys(token) {
    const data = parseToken(token);
    const tk = blake2b(data, 32, utf8.encode(DOMAIN.token));
    const lookupId = blake2b("lookup-id", 16, tk);
    return {
      token: formatToken(data),
      tk,
      lookupId,
      lookupHex: toHex(lookupId),
      reply: sodium.crypto_box_seed_keypair(blake2b("reply-key", 32, tk)),
      followup: sodium.crypto_sign_seed_keypair(blake2b("followup-key", 32, tk)),
    };
  }

  // --- sealing and signing ---

  /** The office public key, after checking it and its key id. */
  function checkOffice(officeKey, officeKeyId) {
    if (typeof officeKeyId !== "string" || !KEY_ID.test(officeKeyId)) {
      throw new MalformedError("officeKeyId: expected 16 lower-case hex digits");
    }
    return bytesArg(officeKey, "officeKey", 32);
  }

  /** Pack, pad (Padmé) and seal a checked document to `recipient`. */
  function seal(doc, attachments, recipient) {
    return sodium.crypto_box_seal(pad(packPayload(doc, attachments)), recipient);
  }

  /**
   * The wire envelope, signed, its receipt id, and `proof(challenge, answer)`, which signs a
   * solved challenge with the same key (the key stays in this closure and is never sent).
   */
  function signedEnvelope(kind, keyId, author, ciphertext, secretKey) {
    const fields = { kind, keyId, author, ciphertext };
    const sig = sodium.crypto_sign_detached(envelopeSigningMessage(fields), secretKey);
    const envelope = { v: VERSION, kind, key_id: keyId };
    if (kind === "report") envelope.client_pk = b64e(author);
    else envelope.lookup_id = toHex(author);
    envelope.ciphertext = b64e(ciphertext);
    envelope.sig = b64e(sig);
    const receiptId = receiptIdOf({ ...fields, sig });
    /** The body's `pow` member: challenge, answer and the binding signature. */
    const proof = (challenge, answer) => {
      const raw = typeof challenge === "string" ? b64d(challenge, "pow.challenge", CHALLENGE_SIZE)
        : bytesArg(challenge, "challenge", CHALLENGE_SIZE);
      const message = powBindingMessage(raw, receiptId);
      const binding = sodium.crypto_sign_detached(message, secretKey);
      return { challenge: b64e(raw), answer, sig: b64e(binding) };
    };
    return { envelope, receiptId, receiptIdHex: toHex(receiptId), proof };
  }

  /**
   * Validate, pad, seal (crypto_box_seal to the office key) and sign a report with a fresh
   * Ed25519 client key.
   * @param {Record<string, any>} doc the report (schema is filled in)
   * @param {Attachment[]} attachments
   * @param {{ officeKey: Uint8Array | string, officeKeyId: string, clientSeed?: Uint8Array }} opts
   *   `clientSeed` only for known-answer tests; by default a fresh random key per report
   * @returns {{ envelope: object, receiptId: Uint8Array, receiptIdHex: string }}
   */
  function sealReport(doc, attachments, { officeKey, officeKeyId, clientSeed }) {
    const recipient = checkOffice(officeKey, officeKeyId);
    const clean = validateReport({ schema: SCHEMAS.report, ...doc });
    const seed = clientSeed
      ? bytesArg(clientSeed, "clientSeed", 32)
      : sodium.randombytes_buf(32);
    const client = sodium.crypto_sign_seed_keypair(seed);
    const ciphertext = seal(clean, attachments, recipient);
    return signedEnvelope("report", officeKeyId, client.publicKey, ciphertext, client.privateKey);
  }

  /**
   * Validate, seal and sign a follow-up (material or satisfaction answer) with the
   * token-derived follow-up key; it is addressed by the token's lookup id.
   * @param {Record<string, any>} doc the follow-up (schema is filled in)
   * @param {Attachment[]} attachments
   * @param {{ officeKey: Uint8Array | string, officeKeyId: string, token: string }} opts
   * @returns {{ envelope: object, receiptId: Uint8Array, receiptIdHex: string }}
   */
  function sealFollowup(doc, attachments, { officeKey, officeKeyId, token }) {
    const recipient = checkOffice(officeKey, officeKeyId);
    const keys = deriveTokenKeys(token);
    const clean = validateFollowup({ schema: SCHEMAS.followup, ...doc });
    const ciphertext = seal(clean, attachments, recipient);
    const signer = keys.followup.privateKey;
    return signedEnvelope("followup", officeKeyId, keys.lookupId, ciphertext, signer);
  }

  /**
   * Parse an envelope's wire form (as the gateway would, minus size limits).
   * @param {Record<string, any>} wire
   * @returns {{ kind: string, keyId: string, author: Uint8Array, ciphertext: Uint8Array,
   *             sig: Uint8Array }}
   * @throws {MalformedError}
   */
  function parseEnvelope(wire) {
    if (!isObject(wire)) throw new MalformedError("envelope: expected a JSON object");
    if (wire.v !== VERSION) {
      throw new MalformedError("v: unsupported protocol version", "bad-version");
    }
    if (wire.kind !== "report" && wire.kind !== "followup") {
      throw new MalformedError("kind: must be 'report' or 'followup'", "bad-kind");
    }
    const expected = ENVELOPE_FIELDS[wire.kind];
    const missing = expected.filter((k) => !(k in wire));
    if (missing.length) throw new MalformedError(`${missing[0]}: missing`, "missing-field");
    const extra = Object.keys(wire).filter((k) => !expected.includes(k)).sort(byCodePoint);
    if (extra.length) throw new MalformedError(`${extra[0]}: unknown field`, "unknown-field");
    if (typeof wire.key_id !== "string" || !KEY_ID.test(wire.key_id)) {
      throw new MalformedError("key_id: expected 16 lower-case hex digits");
    }
    let author;
    if (wire.kind === "report") author = b64d(wire.client_pk, "client_pk", 32);
    else if (typeof wire.lookup_id === "string" && LOOKUP_ID.test(wire.lookup_id)) {
      author = fromHex(wire.lookup_id);
    } else throw new MalformedError("lookup_id: expected 32 lower-case hex digits");
    const ciphertext = b64d(wire.ciphertext, "ciphertext");
    if (ciphertext.length <= SEAL_OVERHEAD) {
      throw new MalformedError("ciphertext: shorter than a sealed box", "bad-length");
    }
    const sig = b64d(wire.sig, "sig", 64);
    return { kind: wire.kind, keyId: wire.key_id, author, ciphertext, sig };
  }

  /**
   * Receipt id of an envelope: `BLAKE2b-256(lp("lianxin/v1/receipt-id", signing message, sig))`.
   * @param {ReturnType<typeof parseEnvelope>} e
   * @returns {Uint8Array} 32 bytes
   */
  function receiptIdOf(e) {
    return blake2b(lp(DOMAIN.receiptId, envelopeSigningMessage(e), e.sig));
  }

  /**
   * Check an envelope's signature: a report's with its own client key, a follow-up's with the
   * follow-up public key derived from the token.
   * @param {ReturnType<typeof parseEnvelope>} e
   * @param {Uint8Array} [publicKey] required for follow-ups
   * @throws {SignatureError}
   */
  function verifyEnvelope(e, publicKey) {
    const key = publicKey ?? (e.kind === "report" ? e.author : null);
    if (!key) throw new TypeError("a follow-up is verified with the token's follow-up key");
    if (!sodium.crypto_sign_verify_detached(e.sig, envelopeSigningMessage(e), key)) {
      throw new SignatureError("the envelope's signature does not verify");
    }
  }

  // --- receipts ---

  /**
   * Parse and verify a receipt with the published gateway key, and check that it names the
   * envelope sent (`expect`). Keep the receipt as proof of submission.
   * @param {Record<string, any>} receipt the receipt JSON from the gateway's answer
   * @param {{ gatewayKey: Uint8Array | string, gatewayKeyId?: string,
   *           expect?: { receiptId?: Uint8Array, kind?: string, keyId?: string } }} opts
   * @returns {{ receiptId: Uint8Array, kind: string, received: string, keyId: string,
   *             gatewayKeyId: string, sig: Uint8Array }}
   * @throws {MalformedError | SignatureError}
   */
  function verifyReceipt(receipt, { gatewayKey, gatewayKeyId, expect = {} }) {
    if (!isObject(receipt) || receipt.v !== 1) {
      throw new MalformedError("receipt: expected a version 1 receipt object");
    }
    const { receipt_id: idHex, kind, received, key_id: keyId, gateway_key_id: gwId } = receipt;
    if (typeof idHex !== "string" || !RECEIPT_ID.test(idHex)
        || typeof received !== "string" || !DATE.test(received)
        || typeof kind !== "string" || typeof keyId !== "string" || typeof gwId !== "string") {
      throw new MalformedError("receipt: missing or malformed field");
    }
    const parsed = {
      receiptId: fromHex(idHex), kind, received, keyId, gatewayKeyId: gwId,
      sig: b64d(receipt.sig, "sig", 64),
    };
    const key = bytesArg(gatewayKey, "gatewayKey", 32);
    if (!sodium.crypto_sign_verify_detached(parsed.sig, receiptMessage(parsed), key)) {
      throw new SignatureError("the receipt's signature does not verify");
    }
    if (gatewayKeyId !== undefined && gwId !== gatewayKeyId) {
      throw new SignatureError("the receipt names another gateway key");
    }
    if ((expect.receiptId && !equalBytes(expect.receiptId, parsed.receiptId))
        || (expect.kind !== undefined && expect.kind !== kind)
        || (expect.keyId !== undefined && expect.keyId !== keyId)) {
      throw new SignatureError("the receipt names another envelope");
    }
    return parsed;
  }

  // --- proof of work ---

  /**
   * Decode a challenge's wire form (not authenticated: only the gateway can).
   * Layout: 0x01 || difficulty u8 || expires u64be || nonce[16] || mac[16].
   * @param {string | Uint8Array} challenge
   * @returns {{ raw: Uint8Array, difficulty: number, expires: number, nonce: Uint8Array }}
   */
  function decodeChallenge(challenge) {
    const raw = bytesArg(challenge, "pow.challenge", CHALLENGE_SIZE);
    if (raw[0] !== 1) throw new ProofOfWorkError("pow.challenge: unknown challenge version");
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const expires = view.getUint32(2) * 2 ** 32 + view.getUint32(6);
    return { raw, difficulty: raw[1], expires, nonce: raw.slice(10, 26) };
  }

  /**
   * `BLAKE2b-256(challenge || u64be(answer))`.
   * @param {string | Uint8Array} challenge
   * @param {number} answer
   * @returns {Uint8Array}
   */
  function powDigest(challenge, answer) {
    const { raw } = decodeChallenge(challenge);
    const buf = new Uint8Array(CHALLENGE_SIZE + 8);
    buf.set(raw);
    writeU64(buf, CHALLENGE_SIZE, answer);
    return blake2b(buf);
  }

  /**
   * Find the smallest answer >= `start` whose digest has `difficulty` leading zero bits.
   * Expected work: 2^difficulty hashes (about 2 million a second in Node).
   * @param {string | Uint8Array} challenge the challenge as received
   * @param {{ start?: number, onProgress?: (p: { hashes: number, expected: number }) => void,
   *           progressEvery?: number, yieldEvery?: number, signal?: AbortSignal,
   *           maxDifficulty?: number }} [opts]
   *   `yieldEvery` > 0 yields to the event loop every that many hashes, so that a page stays
   *   responsive; `signal` aborts the search (checked when yielding); challenges harder than
   *   `maxDifficulty` (default 40, the gateway's own upper bound) are refused.
   * @returns {Promise<number>} the answer
   */
  async function solveChallenge(challenge, opts = {}) {
    const { start = 0, onProgress, progressEvery = 65536, yieldEvery = 0, signal } = opts;
    const { maxDifficulty = 40 } = opts;
    const { raw, difficulty } = decodeChallenge(challenge);
    if (difficulty > maxDifficulty) {
      // A gateway (or an impostor) cannot make the page hash forever.
      throw new ProofOfWorkError(`pow: difficulty ${difficulty} is above ${maxDifficulty} bits`);
    }
    if (!Number.isSafeInteger(start) || start < 0) {
      throw new RangeError("start: a safe integer >= 0");
    }
    const buf = new Uint8Array(CHALLENGE_SIZE + 8);
    buf.set(raw);
    const fullBytes = difficulty >> 3;
    const lastMask = (0xff00 >> (difficulty & 7)) & 0xff;
    const expected = 2 ** difficulty;
    for (let answer = start, hashes = 1; answer < MAX_POW_ANSWER; answer++, hashes++) {
      writeU64(buf, CHALLENGE_SIZE, answer);
      if (meetsDifficulty(sodium.crypto_generichash(32, buf, null), fullBytes, lastMask)) {
        onProgress?.({ hashes, expected });
        return answer;
      }
      if (onProgress && hashes % progressEvery === 0) onProgress({ hashes, expected });
      if (yieldEvery > 0 && hashes % yieldEvery === 0) {
        await yieldToEventLoop();
        signal?.throwIfAborted();
      }
    }
    throw new ProofOfWorkError("pow: no answer below 2^53");
  }

  // --- answers and status rows sealed to the reply key ---

  /** Open a sealed box addressed to the token's reply key (still padded). */
  function openToReplyKey(sealed, token) {
    const keys = deriveTokenKeys(token);
    try {
      return sodium.crypto_box_seal_open(
        bytesArg(sealed, "sealed"), keys.reply.publicKey, keys.reply.privateKey,
      );
    } catch {
      throw new DecryptionError("this token cannot open the data");
    }
  }

  /**
   * Open the office's answer (block-padded, sealed to the token's reply key) and decode it.
   * @param {Uint8Array | string} sealed the sealed box (bytes or base64url)
   * @param {string} token the token as typed
   * @returns {{ doc: Record<string, any>, attachments: Attachment[] }}
   * @throws {DecryptionError | PayloadError | TokenError}
   */
  function openAnswer(sealed, token) {
    const answer = openItem(sealed, token);
    if (answer.doc.schema !== SCHEMAS.answer) {
      throw new PayloadError(`schema: expected '${SCHEMAS.answer}'`);
    }
    return answer;
  }

  /**
   * Open an item of a status row (block-padded, sealed to the token's reply key), whatever its
   * type: the caller shows the `schema` it knows (answer, sent) and ignores any other (§13.3).
   * @param {Uint8Array | string} sealed the sealed box (bytes or base64url)
   * @param {string} token the token as typed
   * @returns {{ doc: Record<string, any>, attachments: Attachment[] }}
   * @throws {DecryptionError | PayloadError | TokenError}
   */
  function openItem(sealed, token) {
    return unpackPayload(unpadBlock(openToReplyKey(sealed, token)), { anySchema: true });
  }

  /**
   * Open block-padded bytes sealed to the token's reply key (status rows), unpadded.
   * @param {Uint8Array | string} sealed
   * @param {string} token
   * @returns {Uint8Array}
   */
  function openWithReplyKey(sealed, token) {
    return unpadBlock(openToReplyKey(sealed, token));
  }

  // --- published keys ---

  /** BLAKE2b-256 of a raw public key, hex. @param {Uint8Array} publicKey */
  const fingerprint = (publicKey) => toHex(blake2b(publicKey));

  /**
   * One key of keys.json, checked as `lianxin.keys.PublicKeyInfo.from_json` does: its kind and
   * algorithm, its serial, and its key id and fingerprint against the key.
   */
  function publishedKey(doc, kind, where) {
    if (!isObject(doc) || doc.kind !== kind) {
      throw new MalformedError(`${where}: expected a ${kind} key`);
    }
    const alg = kind === "office" ? "x25519" : "ed25519";
    if (doc.alg !== alg) throw new MalformedError(`${where}: alg: a ${kind} key is ${alg}`);
    const serial = doc.serial ?? 0;
    if (!Number.isSafeInteger(serial) || serial < 0) {
      throw new MalformedError(`${where}: serial: expected an integer of at least 0`);
    }
    const publicKey = b64d(doc.public_key, `${where}.public_key`, 32);
    const fp = fingerprint(publicKey);
    const fpShown = doc.fingerprint === undefined || doc.fingerprint === fp;
    if (doc.key_id !== fp.slice(0, 16) || !fpShown) {
      throw new MalformedError(`${where}: key_id or fingerprint does not match the key`);
    }
    return { keyId: doc.key_id, publicKey, fingerprint: fp, serial };
  }

  /**
   * Verify the publisher's signature over the raw bytes of keys.json and return the keys a
   * client may trust. Pin the publisher key with `publisherFingerprint` (the fingerprint the
   * portal shows): without a pin, the signature only proves the file is self-consistent.
   * @param {Uint8Array} keysJson the exact bytes served
   * @param {string | Uint8Array} signature keys.json.sig (base64url text, whitespace ignored)
   * @param {{ publisherFingerprint?: string }} [opts]
   * @returns {{ office: { keyId: string, publicKey: Uint8Array }, offices: object[],
   *             gateway: object, publisher: object, pinned: boolean }}
   * @throws {SignatureError | MalformedError}
   */
  function verifyPublishedKeys(keysJson, signature, { publisherFingerprint } = {}) {
    const sig = typeof signature === "string"
      ? b64d(signature.trim(), "keys.json.sig", 64)
      : bytesArg(signature, "keys.json.sig", 64);
    let doc;
    try {
      doc = JSON.parse(utf8Strict.decode(keysJson));
    } catch {
      throw new MalformedError("keys.json: not UTF-8 JSON", "bad-json");
    }
    const ring = isObject(doc) && isObject(doc.keyring) ? doc.keyring : doc;
    if (!isObject(ring) || ring.v !== 1 || !Array.isArray(ring.office) || !ring.office.length) {
      throw new MalformedError("keys.json: not a version 1 keyring with an office key");
    }
    const publisher = publishedKey(ring.publisher, "publisher", "publisher");
    if (publisherFingerprint !== undefined
        && publisher.fingerprint !== publisherFingerprint.replace(/\s+/g, "").toLowerCase()) {
      throw new SignatureError("keys.json: signed by another publisher key than the one pinned");
    }
    const message = keyringSigningMessage(keysJson);
    if (!sodium.crypto_sign_verify_detached(sig, message, publisher.publicKey)) {
      throw new SignatureError("keys.json: the publisher's signature does not verify");
    }
    const offices = ring.office.map((k, i) => publishedKey(k, "office", `office[${i}]`));
    const serials = offices.map((k) => k.serial);
    if (new Set(serials).size !== serials.length) {
      throw new MalformedError("keys.json: two office keys share a serial");
    }
    // Newest first is part of the format, as in Python: office[0] is the current key.
    if (serials.some((serial, i) => i > 0 && serial > serials[i - 1])) {
      throw new MalformedError("keys.json: office keys are not listed newest (highest serial) first");
    }
    const office = offices[0];
    if (ring.current_office_key_id !== undefined && ring.current_office_key_id !== office.keyId) {
      throw new MalformedError("keys.json: current_office_key_id is not the newest office key");
    }
    return {
      office, offices, publisher,
      gateway: publishedKey(ring.gateway, "gateway", "gateway"),
      pinned: publisherFingerprint !== undefined,
    };
  }

  return Object.freeze({
    sodium, b64e, b64d, blake2b, fingerprint,
    deriveTokenKeys, sealReport, sealFollowup, parseEnvelope, receiptIdOf, verifyEnvelope,
    verifyReceipt, decodeChallenge, powDigest, solveChallenge,
    openAnswer, openItem, openWithReplyKey, verifyPublishedKeys,
    // crypto-free helpers, for convenience
    parseToken, normalizeToken, checkSymbol, formatToken, bucket, pad, unpad, padBlock,
    unpadBlock, lp,
    packPayload, unpackPayload, checkAttachment, canonicalJson, validateReport, validateFollowup,
    envelopeSigningMessage, receiptMessage, keyringSigningMessage, leadingZeroBits,
    toHex, fromHex,
  });
}
