// The submit and status pages' crypto-free modules (portal/js/*.mjs), in Node:
// messages in both languages, the form's rules, and the status shard reader. The pages as a
// whole run in real Chromium in tests/test_browser_portal.py.
//
//   node --test tests/node/

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { MESSAGES, formatBytes, problemKey, translator } from "../../portal/js/i18n.mjs";
import {
  LIMITS, checkAttachments, checkReport, problemCode, reportDocument,
} from "../../portal/js/forms.mjs";
import { ShardError, checkIndex, findRows, shardOf } from "../../portal/js/shards.mjs";
import { fromHex, validateReport } from "../../portal/js/protocol.mjs";

describe("messages", () => {
  test("every message exists in Chinese and English, with the same placeholders", () => {
    assert.deepEqual(Object.keys(MESSAGES.zh).sort(), Object.keys(MESSAGES.en).sort());
    const holes = (text) => (text.match(/\{\w+\}/g) ?? []).sort();
    for (const key of Object.keys(MESSAGES.zh)) {
      assert.deepEqual(holes(MESSAGES.zh[key]), holes(MESSAGES.en[key]), key);
    }
  });

  test("values are filled in, unknown placeholders left visible", () => {
    const t = translator("en");
    assert.equal(t("field.required", { label: "a title" }), "Enter a title");
    assert.equal(t("field.tooLong", { label: "x" }), "x must be {max} characters or fewer");
    assert.equal(translator("zh")("field.required", { label: "标题" }), "请填写标题");
  });

  test("every gateway problem has words", () => {
    const slugs = ["bad-json", "bad-content-type", "body-too-large", "bad-request", "bad-version",
      "bad-kind", "missing-field", "unknown-field", "bad-field", "bad-base64", "bad-length",
      "unknown-key-id", "bad-signature", "pow-missing", "pow-invalid", "pow-expired",
      "pow-replayed", "pow-wrong", "pow-unbound", "unknown-lookup-id", "not-found",
      "method-not-allowed", "unavailable", "store-unavailable", "network", "timeout", "http"];
    for (const slug of slugs) {
      const key = problemKey(slug);
      assert.ok(key in MESSAGES.zh && key in MESSAGES.en, slug);
    }
    assert.equal(problemKey("pow-expired"), "err.pow");
    assert.equal(problemKey("pow-unbound"), "err.client");
    assert.equal(problemKey("network"), "err.network");
  });

  test("sizes", () => {
    const t = translator("en");
    assert.equal(formatBytes(512, t), "512 bytes");
    assert.equal(formatBytes(12_320_764, t), "11.7 MB");
  });
});

const filled = {
  realNameChosen: true, realName: false,
  identity: { name: "李四", contact: "138", idNumber: "" },
  reported: { name: " 王某某 ", unit: "某县住建局", post: "科长", rank: "township_section" },
  region: "town.dongshan", category: "legal", problemType: "legal.embezzlement_bribery",
  title: "工程款问题", text: "反映……", lang: "zh", acknowledged: true,
};

describe("the report form", () => {
  test("an anonymous report carries no identity, even if identity fields were typed", () => {
    const doc = reportDocument(filled);
    assert.equal("identity" in doc, false);
    assert.equal(doc.reported.name, "王某某");
    assert.deepEqual(validateReport(doc).reported, doc.reported);
  });

  test("a real-name report carries the identity", () => {
    const doc = reportDocument({ ...filled, realName: true });
    assert.deepEqual(doc.identity, { name: "李四", contact: "138", id_number: "" });
    validateReport(doc);
  });

  test("an empty form lists every required field, in page order", () => {
    const empty = {
      realNameChosen: false, realName: false, identity: { name: "", contact: "", idNumber: "" },
      reported: { name: "", unit: "", post: "", rank: "" }, region: "", category: "",
      problemType: "", title: " ", text: "", lang: "en", acknowledged: false,
    };
    assert.deepEqual(checkReport(empty).map((p) => p.id), ["lx-mode", "lx-reported-name",
      "lx-region", "lx-category", "lx-title", "lx-text", "lx-acknowledge"]);
    const real = checkReport({ ...empty, realNameChosen: true, realName: true });
    assert.deepEqual(real.slice(0, 2).map((p) => p.id), ["lx-identity-name",
      "lx-identity-contact"]);
    assert.deepEqual(checkReport(filled), []);
  });

  test("lengths count code points, as the Python side does", () => {
    const title = "𠀀".repeat(LIMITS.title); // 200 code points, 400 UTF-16 units
    assert.deepEqual(checkReport({ ...filled, title }), []);
    const problems = checkReport({ ...filled, title: title + "x" });
    assert.deepEqual(problems, [{ id: "lx-title", key: "field.tooLong", max: 200 }]);
  });

  test("attachments are checked against the gateway's limits", () => {
    const limits = { max_attachments: 2, max_plaintext_bytes: 1000 };
    assert.equal(checkAttachments([{ name: "a", size: 10 }], null), null);
    assert.equal(checkAttachments([{ name: "a", size: 10 }], limits), null);
    assert.equal(checkAttachments([1, 2, 3].map(() => ({ size: 1 })), limits).key,
      "attach.tooMany");
    assert.equal(checkAttachments([{ name: "a", size: 950 }], limits).key, "attach.tooLarge");
  });

  test("a category without a chosen subtype is reported as the category", () => {
    assert.equal(problemCode("legal", ""), "legal");
    assert.equal(problemCode("legal", "legal.other"), "legal.other");
  });
});

/** A shard as the publisher writes it (publisher/status.py). */
function shard(rows, size = 4096) {
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set([0x4c, 0x58, 0x53, 0x31]);
  view.setUint32(4, rows.length);
  let pos = 8;
  for (const { id, status, answers } of rows) {
    out.set(id, pos);
    view.setUint16(pos + 16, status.length);
    out.set(status, pos + 18);
    pos += 18 + status.length;
    out[pos++] = answers.length;
    for (const a of answers) {
      view.setUint16(pos, a.length);
      out.set(a, pos + 2);
      pos += 2 + a.length;
    }
  }
  return out;
}

describe("status shards", () => {
  const id = (byte) => new Uint8Array(16).fill(byte);

  test("the shard of a lookup id (protocol page §13.1 example)", () => {
    assert.equal(shardOf(fromHex("4c4f8235000000000000000000000000"), 7), 2);
  });

  test("a row and its answers are found; another id is not", () => {
    const data = shard([
      { id: id(1), status: new Uint8Array([9, 9]), answers: [] },
      { id: id(2), status: new Uint8Array([7]), answers: [new Uint8Array([5, 5, 5])] },
    ]);
    const [row, ...others] = findRows(data, id(2));
    assert.deepEqual(row.status, new Uint8Array([7]));
    assert.deepEqual(row.items, [new Uint8Array([5, 5, 5])]);
    assert.deepEqual(others, []);
    assert.deepEqual(findRows(data, id(3)), []);
  });

  test("every row that shares the id is returned, in shard order, for the reader to try", () => {
    const data = shard([
      { id: id(2), status: new Uint8Array([1]), answers: [] },
      { id: id(2), status: new Uint8Array([2]), answers: [new Uint8Array([3])] },
      { id: id(4), status: new Uint8Array([4]), answers: [] },
    ]);
    const rows = findRows(data, id(2));
    assert.deepEqual(rows.map((r) => [...r.status]), [[1], [2]]);
    assert.deepEqual(rows[1].items, [new Uint8Array([3])]);
  });

  test("foreign or truncated data is refused", () => {
    assert.throws(() => findRows(new Uint8Array(100), id(1)), ShardError);
    const data = shard([{ id: id(1), status: new Uint8Array(50), answers: [] }]);
    assert.throws(() => findRows(data.slice(0, 40), id(9)), /truncated/);
    assert.throws(() => checkIndex({ v: 2, shards: 1 }), ShardError);
    assert.deepEqual(checkIndex({ v: 1, shards: 3, shard_bytes: 1024, as_of: "2026-11-23" }),
      { shards: 3, shardBytes: 1024, asOf: "2026-11-23" });
  });
});
