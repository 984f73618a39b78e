// How long the browser's proof of work takes: the JS client (portal/js/protocol.mjs) on
// libsodium-wrappers, in Node (same V8 and WebAssembly engine as Chromium).
//
//   node bench/pow_node.mjs [difficulty=18] [runs=10] [yieldEvery=0]
//
// The challenges are fixed (derived from the run number), so every invocation does the same
// hashes and only the speed differs. The gateway never sees them: the client does not check the
// MAC. The number of hashes a solve takes is geometric with mean 2^difficulty, so the median
// solve is about 0.69 * 2^difficulty hashes; hashes/s is total hashes over total time.

import sodium from "libsodium-wrappers";

import { CHALLENGE_SIZE, createProtocol } from "../portal/js/protocol.mjs";

const [difficulty = 18, runs = 10, yieldEvery = 0] = process.argv.slice(2).map(Number);
if (![difficulty, runs, yieldEvery].every(Number.isInteger) || difficulty < 1 || difficulty > 40) {
  console.error("usage: node bench/pow_node.mjs [difficulty 1..40] [runs] [yieldEvery]");
  process.exit(2);
}

await sodium.ready;
const lx = createProtocol(sodium);

/** A well-formed challenge for run `i`: version 1, difficulty, expiry, nonce, (fake) MAC. */
function challenge(i) {
  const raw = new Uint8Array(CHALLENGE_SIZE);
  raw[0] = 1;
  raw[1] = difficulty;
  new DataView(raw.buffer).setUint32(6, 4_102_444_800); // 2100-01-01, u64be low word
  raw.set(sodium.crypto_generichash(32, `lianxin/bench/pow/${i}`, null), 10);
  return raw;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

await lx.solveChallenge(challenge(-1)); // warm up the JIT before timing
const times = [];
let hashes = 0;
for (let i = 0; i < runs; i++) {
  const started = performance.now();
  const answer = await lx.solveChallenge(challenge(i), { yieldEvery });
  times.push((performance.now() - started) / 1000);
  hashes += answer + 1;
}
const total = times.reduce((a, b) => a + b, 0);
const rate = hashes / total;

const s = (x) => `${x.toFixed(3)} s`;
const n = (x) => Math.round(x).toLocaleString("en");
const args = [difficulty, runs, ...(yieldEvery ? [yieldEvery] : [])].join(" ");
console.log(`libsodium-wrappers ${sodium.SODIUM_VERSION_STRING}, Node ${process.version}`
  + ` (${process.platform}-${process.arch})`);
console.log(`difficulty ${difficulty} bits, ${runs} runs, yieldEvery ${yieldEvery || "never"}`);
console.log(`median solve ${s(median(times))}  (min ${s(Math.min(...times))},`
  + ` max ${s(Math.max(...times))})`);
console.log(`${n(rate)} hashes/s  (${n(hashes)} hashes in ${s(total)})`);
console.log(`expected solve at this rate: ${s(2 ** difficulty / rate)};`
  + ` about 1 s at ${Math.round(Math.log2(rate))} bits`);
console.log(`reproduce: node bench/pow_node.mjs ${args}`);
