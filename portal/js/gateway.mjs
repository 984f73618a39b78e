/**
 * Talking to the gateway from the browser: limits, challenges, and sending one envelope with
 * its proof of work, retried the way the protocol page (§11.7) says — the *same* envelope with a
 * new challenge, never a new seal.
 *
 * Requests carry no cookie (credentials "omit"), no referrer, and nothing but the envelope and
 * the proof of work.
 */

export const MAX_ATTEMPTS = 3;
const RETRY_SLUGS = ["pow-expired", "pow-replayed", "pow-invalid"];
const CHALLENGE_TIMEOUT_MS = 30_000;

/**
 * A failed exchange with the gateway. `slug` is the problem type's slug, or "network",
 * "timeout", "http" (an answer that is not problem+json), "aborted".
 */
export class GatewayError extends Error {
  /** @param {string} slug @param {string} detail @param {number} [status] */
  constructor(slug, detail, status = 0) {
    super(detail);
    this.name = "GatewayError";
    this.slug = slug;
    this.status = status;
  }

  /** Whether sending the same envelope again may work (the user can press "Try again"). */
  get retryable() {
    return ["network", "timeout", "unavailable", "store-unavailable", "http", "aborted",
      "pow-expired",
      "pow-replayed", "pow-invalid"].includes(this.slug);
  }
}

/** Abort when any of the signals does (AbortSignal.any is missing before Safari 17.4). */
function anySignal(signals) {
  if (typeof AbortSignal.any === "function") return AbortSignal.any(signals);
  const controller = new AbortController();
  for (const signal of signals) {
    if (signal.aborted) controller.abort(signal.reason);
    signal.addEventListener("abort", () => controller.abort(signal.reason), { once: true });
  }
  return controller.signal;
}

/**
 * One request to the gateway; problem+json answers become GatewayError with their slug.
 * @param {string} url
 * @param {RequestInit & { timeoutMs: number, signal?: AbortSignal }} init
 * @returns {Promise<{ status: number, doc: any }>}
 */
async function exchange(url, { timeoutMs, signal, ...init }) {
  const timeout = AbortSignal.timeout(timeoutMs);
  const signals = signal ? anySignal([signal, timeout]) : timeout;
  let answer;
  try {
    answer = await fetch(url, {
      ...init, mode: "cors", credentials: "omit", cache: "no-store",
      referrerPolicy: "no-referrer", signal: signals,
    });
  } catch (err) {
    if (signal?.aborted) throw new GatewayError("aborted", "cancelled");
    if (timeout.aborted) throw new GatewayError("timeout", `no answer in ${timeoutMs / 1000} s`);
    throw new GatewayError("network", String(err?.message ?? err));
  }
  const type = (answer.headers.get("content-type") ?? "").split(";")[0].trim();
  let doc = null;
  try {
    if (type === "application/json" || type === "application/problem+json") {
      doc = await answer.json();
    }
  } catch {
    doc = null;
  }
  if (answer.ok && doc !== null && type === "application/json") {
    return { status: answer.status, doc };
  }
  if (type === "application/problem+json" && typeof doc?.type === "string") {
    const slug = doc.type.split("/").pop();
    throw new GatewayError(slug, String(doc.detail ?? doc.title ?? slug), answer.status);
  }
  throw new GatewayError("http", `HTTP ${answer.status}`, answer.status);
}

/**
 * The gateway's live limits (`GET /v1/keys`). Only `limits` is used: the keys in the same
 * answer are ignored, the office key comes from the site's signed keys.json.
 * @param {string} base the gateway URL
 */
export async function fetchLimits(base, { signal } = {}) {
  const { doc } = await exchange(`${base}/v1/keys`, {
    method: "GET", timeoutMs: CHALLENGE_TIMEOUT_MS, signal,
  });
  const limits = doc?.limits;
  if (!limits || !Number.isSafeInteger(limits.max_plaintext_bytes)
      || !Number.isSafeInteger(limits.max_attachments)) {
    throw new GatewayError("http", "the gateway's limits are malformed");
  }
  return limits;
}

/** Generous time for an upload: 60 s plus 10 s per MiB. @param {number} bytes */
function uploadTimeout(bytes) {
  return 60_000 + Math.ceil(bytes / (1024 * 1024)) * 10_000;
}

/**
 * Send one envelope: fetch a challenge, solve it, POST, and retry with a new challenge when the
 * gateway says the challenge expired, was used or is no longer valid.
 * @param {any} lx the protocol (createProtocol)
 * @param {string} base the gateway URL
 * @param {"reports" | "followups"} path
 * @param {{ envelope: object, proof: (challenge: string, answer: number) => object }} sealed
 *   what sealReport / sealFollowup returned: the wire envelope (sent byte for byte the same on
 *   every attempt) and `proof`, which binds a solved challenge to the envelope's key (§10.3)
 * @param {{ signal?: AbortSignal, onStage?: (stage: string, info?: object) => void,
 *           onProgress?: (fraction: number) => void }} [opts]
 * @returns {Promise<any>} the gateway's answer (`token`, `receipt`, `duplicate`)
 */
export async function sendEnvelope(lx, base, path, sealed, opts = {}) {
  const { signal, onStage = () => {}, onProgress = () => {} } = opts;
  const envelopeJson = JSON.stringify(sealed.envelope);
  let lastError = null;
  let invalidSeen = false;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    onStage(attempt === 1 ? "challenge" : "retry", { attempt });
    const { doc: challenge } = await exchange(`${base}/v1/challenges`, {
      method: "POST", timeoutMs: CHALLENGE_TIMEOUT_MS, signal,
    });
    onStage("pow", { difficulty: challenge.difficulty });
    let answer;
    try {
      answer = await lx.solveChallenge(challenge.challenge, {
        yieldEvery: 4096,
        progressEvery: 4096,
        signal,
        // The chance that the answer has been found by now: smooth, and never "100 %" too early.
        onProgress: ({ hashes, expected }) => onProgress(1 - Math.exp(-hashes / expected)),
      });
    } catch (err) {
      if (signal?.aborted) throw new GatewayError("aborted", "cancelled");
      throw new GatewayError("pow-invalid", String(err?.message ?? err));
    }
    onProgress(1);
    onStage("send");
    const proof = sealed.proof(challenge.challenge, answer);
    const body = `{"envelope":${envelopeJson},"pow":${JSON.stringify(proof)}}`;
    try {
      const { doc } = await exchange(`${base}/v1/${path}`, {
        method: "POST", body, headers: { "content-type": "application/json" },
        timeoutMs: uploadTimeout(body.length), signal,
      });
      return doc;
    } catch (err) {
      if (!(err instanceof GatewayError) || !RETRY_SLUGS.includes(err.slug)) throw err;
      // pow-invalid: the difficulty may have risen; retry once, then stop (§11.7).
      if (err.slug === "pow-invalid" && invalidSeen) throw err;
      invalidSeen ||= err.slug === "pow-invalid";
      lastError = err; // a spent or stale challenge: the same envelope with a new one
    }
  }
  throw lastError;
}
