/**
 * What both crypto pages load from the site itself: libsodium, the site config, the
 * publisher-signed keys and the desk's lists.
 *
 * The office key comes only from /keys.json, verified with the publisher key pinned in
 * /portal.json, never from the gateway: a compromised gateway cannot make the page encrypt to
 * another key.
 */

import { createProtocol } from "./protocol.mjs";

/** The site's root URL, from this module's own URL (/js/site.mjs). */
export const SITE_ROOT = new URL("../", import.meta.url);

/** A failure to load something the page needs; `key` names the message. */
export class LoadError extends Error {
  /** @param {string} key @param {string} detail */
  constructor(key, detail) {
    super(detail);
    this.name = "LoadError";
    this.key = key;
    this.detail = detail;
  }
}

/**
 * Fetch a file of the site (never another origin), as bytes.
 * @param {string} path relative to the site root
 * @returns {Promise<Uint8Array>}
 */
export async function fetchSiteBytes(path) {
  const url = new URL(path, SITE_ROOT);
  let answer;
  try {
    answer = await fetch(url, {
      cache: "no-cache", credentials: "omit", referrerPolicy: "no-referrer",
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new LoadError("network", `${path}: ${err.name === "TimeoutError" ? "timeout" : "network"}`);
  }
  if (!answer.ok) throw new LoadError("http", `${path}: HTTP ${answer.status}`);
  return new Uint8Array(await answer.arrayBuffer());
}

/** @param {string} path */
export async function fetchSiteJson(path) {
  const bytes = await fetchSiteBytes(path);
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new LoadError("json", `${path}: not JSON`);
  }
}

/**
 * libsodium (the standard build, served by this site) and the protocol bound to it.
 * @returns {Promise<ReturnType<typeof createProtocol>>}
 */
export async function loadProtocol() {
  try {
    const module = await import("./vendor/libsodium-wrappers.mjs");
    const sodium = module.default;
    await sodium.ready;
    return createProtocol(sodium);
  } catch (err) {
    throw new LoadError("load.crypto", String(err?.message ?? err));
  }
}

/**
 * The site config: `{ gateway_url, gateway_origin, publisher_fingerprint, taxonomy }`.
 * @returns {Promise<Record<string, any>>}
 */
export async function loadConfig() {
  try {
    const config = await fetchSiteJson("portal.json");
    if (config?.v !== 1 || typeof config.publisher_fingerprint !== "string") {
      throw new LoadError("json", "portal.json: not a version 1 site config");
    }
    return config;
  } catch (err) {
    throw new LoadError("load.config", err.detail ?? String(err));
  }
}

/**
 * The published keys, verified: keys.json's raw bytes against keys.json.sig with the publisher
 * key pinned by the site config.
 * @param {ReturnType<typeof createProtocol>} lx
 * @param {Record<string, any>} config
 */
export async function loadTrustedKeys(lx, config) {
  try {
    const [bytes, sig] = await Promise.all([
      fetchSiteBytes("keys.json"), fetchSiteBytes("keys.json.sig"),
    ]);
    return lx.verifyPublishedKeys(bytes, new TextDecoder().decode(sig), {
      publisherFingerprint: config.publisher_fingerprint,
    });
  } catch (err) {
    throw new LoadError("load.keys", err.detail ?? err.message ?? String(err));
  }
}

/** The desk's lists (problem types, ranks, regions) published with the site. */
export async function loadTaxonomy(config) {
  try {
    const doc = await fetchSiteJson(config.taxonomy ?? "taxonomy.json");
    for (const list of ["problem_types", "ranks", "regions"]) {
      if (!Array.isArray(doc?.[list]?.items)) throw new LoadError("json", `no ${list} list`);
    }
    return doc;
  } catch (err) {
    throw new LoadError("load.taxonomy", err.detail ?? String(err));
  }
}

/** A fingerprint in groups of four hex digits, as the keys page prints it. @param {string} fp */
export function groupFingerprint(fp) {
  return fp.match(/.{1,4}/g).join(" ");
}
