// Loaded by bench/browser_bench.py into headless Chromium: the portal's protocol code on the
// standard libsodium-wrappers build, timed the way the submit page uses it.

import sodium from "./js/vendor/libsodium-wrappers.mjs";
import { CHALLENGE_SIZE, createProtocol } from "./js/protocol.mjs";

await sodium.ready;
const lx = createProtocol(sodium);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A challenge of the gateway's layout; the solver does not check the gateway's MAC. */
function challenge(difficulty) {
  const raw = sodium.randombytes_buf(CHALLENGE_SIZE);
  raw[0] = 1;
  raw[1] = difficulty;
  return raw;
}

/** Solve `runs` fresh challenges with the submit page's settings; times in ms and hashes. */
async function pow(difficulty, runs) {
  const out = [];
  for (let i = 0; i < runs; i++) {
    let hashes = 0;
    const start = performance.now();
    await lx.solveChallenge(challenge(difficulty), {
      yieldEvery: 4096, progressEvery: 4096,
      onProgress: (p) => { hashes = p.hashes; },
    });
    out.push({ ms: performance.now() - start, hashes });
  }
  return out;
}

/** Seal and sign a report whose text is `textBytes` long plus one attachment of `attachBytes`. */
function seal(textBytes, attachBytes, runs) {
  const office = sodium.crypto_box_keypair();
  const doc = {
    real_name: false,
    reported: { name: "王某某", unit: "", post: "", rank: "" },
    region: "", problem_type: "", title: "bench", text: "x".repeat(textBytes), lang: "zh",
  };
  const attachments = attachBytes
    ? [{ name: "evidence.bin", type: "application/octet-stream",
      data: sodium.randombytes_buf(attachBytes) }]
    : [];
  const out = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const { envelope } = lx.sealReport(doc, attachments, {
      officeKey: office.publicKey, officeKeyId: "0123456789abcdef",
    });
    const sealedMs = performance.now() - start;
    JSON.stringify(envelope); // the page sends it as JSON text
    out.push({ ms: sealedMs, withJsonMs: performance.now() - start });
  }
  return out;
}

globalThis.lxBench = { pow, seal, median, ready: true };
