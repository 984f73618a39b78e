// portal/js/tlog.mjs in Node, on the real libsodium-wrappers: reads a built site's log from a
// folder and prints the lines the status page would show, as JSON (tests/test_tlog_browser_code.py).
//
//   node tests/tlog_node.mjs SITE_DIR PUBLISHER_KEY_B64 '[{"i":0,"r":"<hex>"}]'

import { readFile } from "node:fs/promises";
import path from "node:path";

import sodium from "libsodium-wrappers";

import { checkEntries } from "../portal/js/tlog.mjs";

const [site, key, entries] = process.argv.slice(2);
const fetchBytes = async (p) => new Uint8Array(await readFile(path.join(site, p)));
const publicKey = Uint8Array.from(atob(key), (c) => c.charCodeAt(0));
const lines = await checkEntries(JSON.parse(entries), publicKey, fetchBytes, "en", async () => sodium);
process.stdout.write(JSON.stringify(lines));
