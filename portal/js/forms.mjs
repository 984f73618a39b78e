/**
 * The submit and status forms' rules, without the DOM: what a report document is made of, and
 * the checks a person gets told about in words before anything is encrypted or sent.
 * Lengths are those of the protocol (title 200, text 100 000, short texts 200, ID number 40),
 * counted in code points as the Python side does.
 */

export const LIMITS = Object.freeze({ short: 200, title: 200, text: 100_000, idNumber: 40 });

/** Length in code points, as Python's len(). @param {string} text */
export const length = (text) => [...text].length;

const blank = (text) => text.trim() === "";

/**
 * The report document (lianxin/report/v1) from the form's values. Identity fields are part of
 * the document only for a real-name report.
 * @param {{ realName: boolean, identity: { name: string, contact: string, idNumber: string },
 *           reported: { name: string, unit: string, post: string, rank: string },
 *           region: string, problemType: string, title: string, text: string,
 *           lang: string }} v
 */
export function reportDocument(v) {
  const doc = {
    schema: "lianxin/report/v1",
    real_name: v.realName,
    reported: {
      name: v.reported.name.trim(),
      unit: v.reported.unit.trim(),
      post: v.reported.post.trim(),
      rank: v.reported.rank,
    },
    region: v.region,
    problem_type: v.problemType,
    title: v.title.trim(),
    text: v.text,
    lang: v.lang,
  };
  if (v.realName) {
    doc.identity = {
      name: v.identity.name.trim(),
      contact: v.identity.contact.trim(),
      id_number: v.identity.idNumber.trim(),
    };
  }
  return doc;
}

/**
 * Check the form's values; each problem names the field's element id and a message key.
 * @param {Parameters<typeof reportDocument>[0] & { realNameChosen: boolean,
 *         category: string, acknowledged: boolean }} v
 * @returns {{ id: string, key: string, max?: number }[]} (the field's name for the message is
 *   its control's `data-lx-name`, written in the page's language)
 */
export function checkReport(v) {
  const problems = [];
  const required = (id, value) => {
    if (blank(value)) problems.push({ id, key: "field.required" });
  };
  const limit = (id, value, max) => {
    if (length(value) > max) problems.push({ id, key: "field.tooLong", max });
  };
  if (!v.realNameChosen) problems.push({ id: "lx-mode", key: "field.realName" });
  if (v.realName) {
    required("lx-identity-name", v.identity.name);
    limit("lx-identity-name", v.identity.name, LIMITS.short);
    required("lx-identity-contact", v.identity.contact);
    limit("lx-identity-contact", v.identity.contact, LIMITS.short);
    limit("lx-identity-id", v.identity.idNumber, LIMITS.idNumber);
  }
  required("lx-reported-name", v.reported.name);
  limit("lx-reported-name", v.reported.name, LIMITS.short);
  limit("lx-reported-unit", v.reported.unit, LIMITS.short);
  limit("lx-reported-post", v.reported.post, LIMITS.short);
  if (!v.region) problems.push({ id: "lx-region", key: "field.choose" });
  if (!v.category) problems.push({ id: "lx-category", key: "field.choose" });
  required("lx-title", v.title);
  limit("lx-title", v.title, LIMITS.title);
  required("lx-text", v.text);
  limit("lx-text", v.text, LIMITS.text);
  if (!v.acknowledged) problems.push({ id: "lx-acknowledge", key: "field.acknowledge" });
  return problems;
}

/**
 * Check attachments against the gateway's limits before reading or sealing them.
 * @param {{ name: string, size: number }[]} files
 * @param {{ max_attachments: number, max_plaintext_bytes: number } | null} limits
 * @param {number} documentBytes the rest of the payload (document and framing)
 * @returns {{ key: string, count?: number, max?: number, size?: number } | null}
 */
export function checkAttachments(files, limits, documentBytes = 0) {
  if (!limits) return null;
  if (files.length > limits.max_attachments) {
    return { key: "attach.tooMany", count: files.length, max: limits.max_attachments };
  }
  // Each attachment also costs its name, type and size in the document (~100 bytes).
  const total = documentBytes + files.reduce((n, f) => n + f.size + 100, 0);
  if (total > limits.max_plaintext_bytes) {
    return { key: "attach.tooLarge", size: total, max: limits.max_plaintext_bytes };
  }
  return null;
}

/**
 * The problem-type code a report carries: the subtype, or the category itself when the
 * reporter is not sure of the subtype (or the category has none).
 * @param {string} category @param {string} subtype
 */
export function problemCode(category, subtype) {
  return subtype || category;
}

/** A file name for a downloaded receipt. @param {{ received: string, receipt_id: string }} r */
export function receiptFilename(receipt) {
  return `lianxin-receipt-${receipt.received}-${receipt.receipt_id.slice(0, 12)}.json`;
}
