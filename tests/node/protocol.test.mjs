// The JavaScript client (portal/js/protocol.mjs on the real libsodium-wrappers) against the
// known-answer vectors generated from the Python implementation, and, when a gateway is given,
// against the running Python gateway.
//
//   node --test tests/node/
//   LIANXIN_GATEWAY_URL=http://127.0.0.1:8080 LIANXIN_KEYS_JSON=site/keys.json \
//     LIANXIN_TOKEN_OUT=/tmp/out.json node --test tests/node/
//
// tests/test_node_interop.py runs both and opens what this file submitted with the office key.

import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { describe, test } from "node:test";

import sodium from "libsodium-wrappers";

import * as P from "../../portal/js/protocol.mjs";

await sodium.ready;
const lx = P.createProtocol(sodium);
const V = JSON.parse(
  readFileSync(new URL("../vectors/protocol-v1.json", import.meta.url), "utf8"),
);

const b64 = (text) => sodium.from_base64(text, sodium.base64_variants.URLSAFE_NO_PADDING);
const hex = (bytes) => P.toHex(bytes);
const enc = (text) => new TextEncoder().encode(text);
const files = (items) => items.map((a) => ({ name: a.name, type: a.type, data: b64(a.data) }));
const withoutAttachments = ({ attachments, ...rest }) => rest;

describe("tokens", () => {
  for (const v of V.tokens) {
    test(`derives ${v.grouped}`, () => {
      assert.equal(P.checkSymbol(v.data), v.check);
      assert.equal(P.formatToken(v.data), v.grouped);
      assert.equal(P.parseToken(v.grouped), v.data);
      const keys = lx.deriveTokenKeys(v.grouped);
      assert.equal(hex(keys.tk), v.tk);
      assert.equal(keys.lookupHex, v.lookup_id);
      assert.deepEqual(keys.reply.publicKey, b64(v.reply_public_key));
      assert.deepEqual(keys.reply.privateKey, b64(v.reply_secret_key));
      assert.deepEqual(keys.followup.publicKey, b64(v.followup_public_key));
    });
  }

  test("reads typed tokens forgivingly", () => {
    for (const v of V.typed_tokens) assert.equal(P.parseToken(v.input), v.data, v.input);
  });

  for (const v of V.bad_tokens) {
    test(`refuses a token: ${v.reason}`, () => {
      assert.throws(() => P.parseToken(v.input), (err) => {
        assert.ok(err instanceof P.TokenError);
        assert.equal(err.slug, v.error);
        return true;
      });
    });
  }
});

describe("padding, lp, payloads, documents", () => {
  test("Padmé buckets", () => {
    assert.equal(P.MIN_BUCKET, V.padding.min_bucket);
    for (const v of V.padding.buckets) assert.equal(P.bucket(v.length), v.bucket, `${v.length}`);
  });

  test("pad and unpad", () => {
    for (const v of V.padding.padded) {
      const plain = b64(v.plaintext);
      const padded = P.pad(plain);
      assert.equal(padded.length, v.length);
      assert.equal(hex(padded.subarray(0, 4 + plain.length)), v.head);
      assert.ok(padded.subarray(4 + plain.length).every((b) => b === 0));
      assert.deepEqual(P.unpad(padded), plain);
    }
    for (const v of V.padding.unpad_errors) {
      const expected = { name: "PayloadError", slug: v.error };
      assert.throws(() => P.unpad(b64(v.padded)), expected, v.reason);
    }
  });

  test("block padding for data sealed to a reply key", () => {
    assert.equal(P.STATUS_BLOCK, V.padding.status_block);
    for (const v of V.padding.blocks) {
      const padded = P.padBlock(new Uint8Array(v.length));
      assert.equal(padded.length, v.padded_length, `${v.length}`);
      assert.equal(P.unpadBlock(padded).length, v.length);
    }
    for (const v of V.padding.unpad_block_errors) {
      assert.throws(
        () => P.unpadBlock(b64(v.padded)), { name: "PayloadError", slug: v.error }, v.reason,
      );
    }
  });

  test("length prefixes", () => {
    for (const v of V.lp) assert.equal(hex(P.lp(...v.items.map(P.fromHex))), v.encoded);
  });

  for (const v of V.payloads) {
    test(`packs ${v.doc.schema} to the same bytes as Python`, () => {
      const packed = P.packPayload(v.doc, files(v.attachments));
      assert.equal(lx.b64e(packed), v.packed);
      const decoded = P.unpackPayload(b64(v.packed));
      assert.deepEqual(withoutAttachments(decoded.doc), v.doc);
      assert.deepEqual(decoded.attachments, files(v.attachments));
    });
  }

  test("a status row's item may have a schema this reader does not know (§13.3)", () => {
    const encode = (doc) => {
      const body = new TextEncoder().encode(JSON.stringify(doc));
      const out = new Uint8Array(4 + body.length);
      new DataView(out.buffer).setUint32(0, body.length);
      out.set(body, 4);
      return out;
    };
    const later = encode({ schema: "lianxin/message/v9", text: "…", attachments: [] });
    assert.throws(() => P.unpackPayload(later), P.PayloadError);
    assert.equal(P.unpackPayload(later, { anySchema: true }).doc.schema, "lianxin/message/v9");
    for (const bad of [{ schema: 9, attachments: [] }, { attachments: [] }, [1]]) {
      assert.throws(() => P.unpackPayload(encode(bad), { anySchema: true }), P.PayloadError);
    }
  });

  for (const v of V.payload_errors) {
    test(`refuses an attachment entry: ${v.reason}`, () => {
      const packed = b64(v.packed);
      const isField = (err) => err instanceof P.PayloadError
        && err.message.split(":")[0] === v.error_field;
      assert.throws(() => P.unpackPayload(packed), isField);
      const doc = JSON.parse(new TextDecoder().decode(packed.subarray(4, packed.length - 1)));
      const [entry] = doc.attachments;
      const files = [{ name: entry.name, type: entry.type, data: new Uint8Array([120]) }];
      assert.throws(() => P.packPayload(doc, files), isField);
    });
  }

  const documentCases = [
    ...V.documents.reports.map((v) => [P.validateReport, v]),
    ...V.documents.followups.map((v) => [P.validateFollowup, v]),
  ];
  for (const [validate, v] of documentCases) {
    test(`${validate.name}: ${v.error_field ? `refuses (${v.error_field})` : "accepts"}`, () => {
      if (v.output) {
        assert.deepEqual(validate(v.input), v.output);
      } else {
        assert.throws(() => validate(v.input), (err) => {
          assert.ok(err instanceof P.PayloadError);
          assert.equal(err.message.split(":")[0], v.error_field);
          return true;
        });
      }
    });
  }
});

describe("envelopes and receipts", () => {
  for (const v of V.envelopes) {
    test(`verifies and opens the ${v.kind} vector`, () => {
      const e = lx.parseEnvelope(v.wire);
      assert.equal(lx.b64e(P.envelopeSigningMessage(e)), v.signing_message);
      assert.equal(hex(lx.receiptIdOf(e)), v.receipt_id);
      const key = v.kind === "report" ? undefined : lx.deriveTokenKeys(v.token).followup.publicKey;
      lx.verifyEnvelope(e, key);
      const binding = P.powBindingMessage(b64(v.pow_binding.challenge), lx.receiptIdOf(e));
      assert.equal(lx.b64e(binding), v.pow_binding.message);
      const signer = key ?? e.author;
      assert.ok(sodium.crypto_sign_verify_detached(b64(v.pow_binding.sig), binding, signer));
      const tampered = { ...e, keyId: "0".repeat(16) };
      assert.throws(() => lx.verifyEnvelope(tampered, key), { name: "SignatureError" });

      const office = { pk: b64(v.office_public_key), sk: b64(v.office_secret_key) };
      const padded = sodium.crypto_box_seal_open(e.ciphertext, office.pk, office.sk);
      assert.equal(padded.length, v.padded_length);
      assert.equal(lx.b64e(P.unpad(padded)), v.plaintext);
      // The JS pipeline (validate, pack, pad) yields the very bytes Python sealed.
      const validate = v.kind === "report" ? P.validateReport : P.validateFollowup;
      const clean = validate({ schema: P.SCHEMAS[v.kind], ...v.doc });
      assert.equal(lx.b64e(P.packPayload(clean, files(v.attachments))), v.plaintext);
    });

    test(`seals a ${v.kind} that opens to the vector's plaintext`, () => {
      const opts = { officeKey: b64(v.office_public_key), officeKeyId: v.key_id };
      const sealed = v.kind === "report"
        ? lx.sealReport(v.doc, files(v.attachments), {
          ...opts, clientSeed: P.fromHex(v.client_seed),
        })
        : lx.sealFollowup(v.doc, files(v.attachments), { ...opts, token: v.token });
      const e = lx.parseEnvelope(sealed.envelope);
      if (v.kind === "report") assert.equal(sealed.envelope.client_pk, v.wire.client_pk);
      else assert.equal(sealed.envelope.lookup_id, v.wire.lookup_id);
      // The sealed envelope binds a challenge with its own key (a fresh seal, so a fresh
      // receipt id: check the signature rather than compare bytes).
      const proof = sealed.proof(v.pow_binding.challenge, 7);
      assert.equal(proof.challenge, v.pow_binding.challenge);
      const bound = P.powBindingMessage(b64(proof.challenge), sealed.receiptId);
      const signerKey = v.kind === "report" ? b64(sealed.envelope.client_pk)
        : lx.deriveTokenKeys(v.token).followup.publicKey;
      assert.ok(sodium.crypto_sign_verify_detached(b64(proof.sig), bound, signerKey));
      assert.deepEqual(Object.keys(sealed.envelope), Object.keys(v.wire));
      const key = v.kind === "report" ? undefined : lx.deriveTokenKeys(v.token).followup.publicKey;
      lx.verifyEnvelope(e, key);
      assert.deepEqual(sealed.receiptId, lx.receiptIdOf(e));
      const padded = sodium.crypto_box_seal_open(
        e.ciphertext, b64(v.office_public_key), b64(v.office_secret_key),
      );
      assert.equal(lx.b64e(P.unpad(padded)), v.plaintext);
    });
  }

  test("verifies the receipt vector", () => {
    const v = V.receipt;
    const gatewayKey = sodium.crypto_sign_seed_keypair(P.fromHex(v.gateway_seed)).publicKey;
    assert.equal(lx.b64e(gatewayKey), v.gateway_public_key);
    assert.equal(lx.fingerprint(gatewayKey).slice(0, 16), v.gateway_key_id);
    const expect = { receiptId: P.fromHex(V.envelopes[0].receipt_id), kind: "report" };
    const receipt = lx.verifyReceipt(v.receipt, {
      gatewayKey, gatewayKeyId: v.gateway_key_id, expect,
    });
    assert.equal(hex(P.receiptMessage(receipt)), v.message);
    assert.throws(
      () => lx.verifyReceipt(v.tampered, { gatewayKey }), { name: "SignatureError" },
    );
    assert.throws(
      () => lx.verifyReceipt(v.receipt, { gatewayKey, expect: { kind: "followup" } }),
      { name: "SignatureError" },
    );
  });

  for (const v of V.receipt.shapes) {
    test(`receipt shape: ${v.reason}`, () => {
      const gatewayKey = sodium.crypto_sign_seed_keypair(P.fromHex(V.receipt.gateway_seed))
        .publicKey;
      const gatewayKeyId = V.receipt.gateway_key_id;
      const check = () => lx.verifyReceipt(v.receipt, { gatewayKey, gatewayKeyId });
      if (v.accepted) check();
      else assert.throws(check, { name: "MalformedError" });
    });
  }
});

describe("proof of work", () => {
  for (const v of V.pow.challenges) {
    test(`solves the ${v.difficulty}-bit challenge with Python's answer`, async () => {
      const c = lx.decodeChallenge(v.challenge);
      assert.equal(c.difficulty, v.difficulty);
      assert.equal(c.expires, v.expires);
      assert.equal(hex(c.nonce), v.nonce);
      assert.equal(hex(c.raw.subarray(26)), v.mac);
      for (const probe of v.probes) {
        const digest = lx.powDigest(v.challenge, probe.answer);
        assert.equal(hex(digest), probe.digest, `${probe.answer}`);
        assert.equal(P.leadingZeroBits(digest), probe.leading_zero_bits);
        assert.equal(P.leadingZeroBits(digest) >= v.difficulty, probe.meets);
      }
      let progress = 0;
      const answer = await lx.solveChallenge(v.challenge, {
        onProgress: () => progress++, progressEvery: 1024, yieldEvery: 512,
      });
      assert.equal(answer, v.answer);
      assert.ok(progress > 0);
      assert.equal(hex(lx.powDigest(v.challenge, answer)), v.digest);
    });
  }

  test("leading zero bits", () => {
    for (const v of V.pow.leading_zero_bits) {
      assert.equal(P.leadingZeroBits(P.fromHex(v.digest)), v.bits, v.digest);
    }
  });

  test("refuses a challenge above the difficulty it accepts, and can be aborted", async () => {
    const raw = b64(V.pow.challenges[1].challenge);
    await assert.rejects(
      lx.solveChallenge(raw, { maxDifficulty: 15 }), { name: "ProofOfWorkError" },
    );
    const hard = raw.slice();
    hard[1] = 40;
    const controller = new AbortController();
    const solving = lx.solveChallenge(hard, { yieldEvery: 1000, signal: controller.signal });
    controller.abort();
    await assert.rejects(solving, { name: "AbortError" });
  });
});

describe("data sealed to the reply key, published keys", () => {
  for (const v of V.reply_sealed) {
    test(`opens the ${v.what} sealed to the token's reply key`, () => {
      const keys = lx.deriveTokenKeys(v.token);
      assert.deepEqual(keys.reply.privateKey, b64(v.recipient_secret_key));
      assert.equal(lx.b64e(lx.openWithReplyKey(v.sealed, v.token)), v.plaintext);
      if (v.what === "answer") {
        const answer = lx.openAnswer(b64(v.sealed), v.token);
        assert.deepEqual(answer.doc, { ...v.doc, attachments: [] });
      } else if (v.what === "sent") {
        assert.deepEqual(lx.openItem(v.sealed, v.token).doc, { ...v.doc, attachments: [] });
        assert.throws(() => lx.openAnswer(v.sealed, v.token), { name: "PayloadError" });
      } else {
        assert.throws(() => lx.openAnswer(v.sealed, v.token), { name: "PayloadError" });
      }
      assert.throws(
        () => lx.openWithReplyKey(v.sealed, v.wrong_token), { name: "DecryptionError" },
      );
    });
  }

  test("verifies the publisher's signature over the raw keys.json bytes", () => {
    const v = V.keyring;
    const data = b64(v.keys_json);
    assert.equal(lx.b64e(P.keyringSigningMessage(data)), v.signing_message);
    const keys = lx.verifyPublishedKeys(data, v.keys_json_sig, {
      publisherFingerprint: v.publisher_fingerprint,
    });
    assert.ok(keys.pinned);
    assert.equal(keys.office.keyId, v.current_office_key_id);
    assert.equal(lx.b64e(keys.office.publicKey), v.current_office_public_key);
    assert.equal(lx.b64e(keys.gateway.publicKey), v.gateway_public_key);
    const altered = enc(new TextDecoder().decode(data).replace('"serial": 1', '"serial": 3'));
    assert.throws(
      () => lx.verifyPublishedKeys(altered, v.keys_json_sig), { name: "SignatureError" },
    );
    assert.throws(
      () => lx.verifyPublishedKeys(data, v.keys_json_sig, {
        publisherFingerprint: "00".repeat(32),
      }),
      { name: "SignatureError" },
    );
  });

  for (const bad of V.keyring.refused) {
    test(`refuses a signed keyring: ${bad.reason}`, () => {
      assert.throws(
        () => lx.verifyPublishedKeys(b64(bad.keys_json), bad.keys_json_sig, {
          publisherFingerprint: V.keyring.publisher_fingerprint,
        }),
        { name: "MalformedError" },
      );
    });
  }
});

// --- against a running gateway -------------------------------------------------------------

const GATEWAY = process.env.LIANXIN_GATEWAY_URL;

async function post(path, body) {
  const answer = await fetch(GATEWAY + path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: answer.status, body: await answer.json() };
}

async function solvedChallenge(sealed) {
  const { status, body } = await post("/v1/challenges");
  assert.equal(status, 201, JSON.stringify(body));
  const answer = await lx.solveChallenge(body.challenge, { yieldEvery: 4096 });
  return sealed.proof(body.challenge, answer);
}

async function submit(path, sealed, expectStatus) {
  const pow = await solvedChallenge(sealed);
  const { status, body } = await post(path, { envelope: sealed.envelope, pow });
  assert.equal(status, expectStatus, JSON.stringify(body));
  return body;
}

function publishedKeys() {
  const path = process.env.LIANXIN_KEYS_JSON;
  assert.ok(path, "set LIANXIN_KEYS_JSON to a published keys.json with LIANXIN_GATEWAY_URL");
  return lx.verifyPublishedKeys(readFileSync(path), readFileSync(`${path}.sig`, "utf8"), {
    publisherFingerprint: process.env.LIANXIN_PUBLISHER_FINGERPRINT,
  });
}

const b64File = (a) => ({ name: a.name, type: a.type, data: lx.b64e(a.data) });

test("submits a report and follow-ups to the running gateway", {
  skip: GATEWAY ? false : "set LIANXIN_GATEWAY_URL and LIANXIN_KEYS_JSON to run",
}, async () => {
  const keys = publishedKeys();
  const checkReceipt = (answer, sealed, kind) => lx.verifyReceipt(answer.receipt, {
    gatewayKey: keys.gateway.publicKey,
    gatewayKeyId: keys.gateway.keyId,
    expect: { receiptId: sealed.receiptId, kind, keyId: keys.office.keyId },
  });
  const office = { officeKey: keys.office.publicKey, officeKeyId: keys.office.keyId };

  const doc = {
    real_name: true,
    identity: { name: "赵六", contact: "zhao@example.org" },
    reported: { name: "钱七", unit: "某市某局", post: "处长" },
    region: "110105",
    problem_type: "misuse-of-funds",
    title: "JS client report 报告",
    text: "Sealed in JavaScript, opened in Python.\n第二段。",
    lang: "zh",
  };
  const attachments = [
    { name: "凭证.bin", type: "application/octet-stream", data: sodium.randombytes_buf(5000) },
    { name: "note.txt", type: "text/plain", data: enc("补充说明\n") },
  ];
  const report = lx.sealReport(doc, attachments, office);
  const first = await submit("/v1/reports", report, 201);
  assert.equal(first.duplicate, false);
  checkReceipt(first, report, "report");
  assert.equal(P.formatToken(first.token), first.token);

  // A retry of the identical envelope: same case and receipt, a new working token.
  const retry = await submit("/v1/reports", report, 200);
  assert.equal(retry.duplicate, true);
  checkReceipt(retry, report, "report");
  assert.notEqual(retry.token, first.token);

  const followups = [
    [first.token, { type: "material", text: "补充材料 more material" }, [
      { name: "extra.txt", type: "text/plain", data: enc("second file") },
    ]],
    [retry.token, { type: "satisfaction", rating: "not", text: "不满意" }, []],
  ].map(([token, followDoc, followFiles]) => ({ token, doc: followDoc, files: followFiles }));
  for (const f of followups) {
    f.sealed = lx.sealFollowup(f.doc, f.files, { ...office, token: f.token });
    checkReceipt(await submit("/v1/followups", f.sealed, 201), f.sealed, "followup");
  }

  const out = process.env.LIANXIN_TOKEN_OUT;
  if (out) {
    writeFileSync(out, JSON.stringify({
      token: first.token,
      retry_token: retry.token,
      office_key_id: keys.office.keyId,
      report: {
        doc, sealed_doc: P.validateReport({ schema: P.SCHEMAS.report, ...doc }),
        attachments: attachments.map(b64File), envelope: report.envelope,
        receipt_id: report.receiptIdHex,
      },
      followups: followups.map((f) => ({
        token: f.token, doc: f.doc, attachments: f.files.map(b64File),
        envelope: f.sealed.envelope, receipt_id: f.sealed.receiptIdHex,
      })),
    }, null, 2));
  }
});
