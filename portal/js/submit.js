/**
 * The submit page: the report is checked, sealed to the office key from the site's signed
 * keys.json and signed on this device, sent with a proof of work, and answered with a token.
 *
 * What the person typed stays in the form until the gateway has answered with a token: every
 * failure is explained in words and offers "Try again", which resends the *same* sealed
 * envelope (a retry never opens a second case). Nothing is stored: not the report, not the
 * token (it is shown, copied, printed or downloaded only when the person asks).
 */

import { formatBytes, pageLang, translator } from "./i18n.mjs";
import {
  LoadError, groupFingerprint, loadConfig, loadProtocol, loadTaxonomy, loadTrustedKeys,
} from "./site.mjs";
import { GatewayError, fetchLimits, sendEnvelope } from "./gateway.mjs";
import {
  announce, byId, clearErrors, clearFieldError, copyText, downloadJson, h, hideMessage, showErrors, showMessage,
  tokenElement,
} from "./ui.mjs";
import { SendPanel, fileKey, nextFrame, readAttachments } from "./sending.mjs";
import {
  checkAttachments, checkReport, problemCode, receiptFilename, reportDocument,
} from "./forms.mjs";

const lang = pageLang();
const t = translator(lang);

const page = {
  form: byId("lx-form"),
  summary: byId("lx-summary"),
  loadMessage: byId("lx-load-message"),
  keyInfo: byId("lx-keyinfo"),
  identity: byId("lx-identity"),
  category: byId("lx-category"),
  subtype: byId("lx-subtype"),
  files: byId("lx-files"),
  fileList: byId("lx-file-list"),
  filesStatus: byId("lx-files-status"),
  limits: byId("lx-limits"),
  send: byId("lx-send"),
  sendMessage: byId("lx-send-message"),
  result: byId("lx-result"),
};

const panel = new SendPanel(page.form, {
  progress: byId("lx-progress"),
  stage: byId("lx-stage"),
  bar: byId("lx-pow"),
  cancel: byId("lx-cancel"),
  message: page.sendMessage,
}, t);

const state = {
  lx: null,
  config: null,
  keys: null,
  taxonomy: null,
  limits: null,
  /** @type {File[]} */
  files: [],
  /** The sealed envelope of the last attempt, reused by "Try again" while nothing changed. */
  sealed: null,
  dirty: false,
};

// --- loading ---------------------------------------------------------------------------------

async function init() {
  wireForm();
  try {
    const [lx, config] = await Promise.all([loadProtocol(), loadConfig()]);
    state.lx = lx;
    state.config = config;
    const [keys, taxonomy] = await Promise.all([
      loadTrustedKeys(lx, config), loadTaxonomy(config),
    ]);
    state.keys = keys;
    state.taxonomy = taxonomy;
  } catch (err) {
    const key = err instanceof LoadError ? err.key : "load.crypto";
    showMessage(page.loadMessage, "error", t(key, { detail: err.detail ?? err.message }));
    return;
  }
  fillSelects(state.taxonomy);
  showKeyInfo(state.keys);
  if (!state.config.gateway_url) {
    showMessage(page.loadMessage, "warning", t("load.noGateway"));
    announce(page.limits, "");
    return;
  }
  page.send.disabled = false;
  await refreshLimits();
}

async function refreshLimits() {
  try {
    state.limits = await fetchLimits(state.config.gateway_url);
    const { max_attachments: count, max_plaintext_bytes: size } = state.limits;
    announce(page.limits, count > 0
      ? t("limits.shown", { count, size: formatBytes(size, t) })
      : t("limits.none"));
    if (!panel.sending) page.files.disabled = count === 0;
  } catch (err) {
    announce(page.limits, t("limits.unknown", { detail: describe(err) }));
  }
  renderFiles();
}

function showKeyInfo(keys) {
  const keysPage = "../keys/";
  // For those who want to check: behind a disclosure, so that a long hexadecimal fingerprint
  // does not stand between an ordinary reporter and the form.
  page.keyInfo.replaceChildren(
    h("summary", {}, t("keys.summary")),
    h("p", {}, t("keys.plain")),
    h("p", {}, t("keys.verified", { keyId: keys.office.keyId })),
    h("p", { class: "lx-fingerprint", translate: "no" }, groupFingerprint(keys.office.fingerprint)),
    h("p", { class: "lx-hint" }, t("keys.publisher"), " ",
      h("span", { class: "lx-fingerprint--small", translate: "no" },
        groupFingerprint(keys.publisher.fingerprint))),
    h("p", { class: "lx-hint" }, h("a", { href: keysPage }, t("keys.compare"))),
  );
  page.keyInfo.hidden = false;
}

function option(value, label) {
  return h("option", { value }, label);
}

function fillSelects(taxonomy) {
  const name = (item) => item[lang] ?? item.zh;
  const rank = byId("lx-rank");
  rank.replaceChildren(option("", t("select.unknown")),
    ...taxonomy.ranks.items.map((r) => option(r.code, name(r))));
  const regions = taxonomy.regions.items;
  const byCode = new Map(regions.map((r) => [r.code, r]));
  byId("lx-region").replaceChildren(option("", t("select.placeholder")), ...regions.map((r) => {
    const parent = r.parent ? byCode.get(r.parent) : null;
    return option(r.code, parent ? `${name(parent)} · ${name(r)}` : name(r));
  }));
  const categories = taxonomy.problem_types.items.filter((p) => !p.parent);
  page.category.replaceChildren(option("", t("select.placeholder")),
    ...categories.map((c) => option(c.code, name(c))));
  fillSubtypes();
}

function fillSubtypes() {
  const name = (item) => item[lang] ?? item.zh;
  const subtypes = (state.taxonomy?.problem_types.items ?? [])
    .filter((p) => p.parent && p.parent === page.category.value);
  page.subtype.replaceChildren(option("", t("problem.any")),
    ...subtypes.map((s) => option(s.code, name(s))));
  page.subtype.disabled = subtypes.length === 0;
}

// --- the form --------------------------------------------------------------------------------

function wireForm() {
  page.form.addEventListener("submit", onSubmit);
  page.form.addEventListener("input", () => { state.dirty = true; });
  // A field's error goes as soon as the field is fixed, not only at the next send.
  page.form.addEventListener("input", clearFixedErrors);
  page.form.addEventListener("change", clearFixedErrors);
  for (const radio of page.form.querySelectorAll('input[name="lx-mode"]')) {
    radio.addEventListener("change", () => {
      page.identity.hidden = valueOf("mode") !== "real";
    });
  }
  page.category.addEventListener("change", fillSubtypes);
  page.files.addEventListener("change", () => {
    const seen = new Set(state.files.map(fileKey));
    for (const file of page.files.files) {
      if (!seen.has(fileKey(file))) state.files.push(file);
    }
    page.files.value = ""; // the same file can be chosen again after removing it
    renderFiles();
  });
  window.addEventListener("beforeunload", (event) => {
    if (state.dirty || panel.sending) event.preventDefault();
  });
}

function renderFiles() {
  const items = state.files.map((file, index) => {
    const remove = h("button", {
      type: "button", class: "lx-link-button",
      "aria-label": t("attach.removeNamed", { name: file.name }),
    }, t("attach.remove"));
    remove.addEventListener("click", () => {
      state.files.splice(index, 1);
      renderFiles();
      announce(page.filesStatus, t("attach.removed", { name: file.name }));
      page.files.focus();
    });
    return h("li", {}, h("span", { class: "lx-files__name" }, file.name),
      ` (${formatBytes(file.size, t)}) `, remove);
  });
  const problem = checkAttachments(state.files, state.limits);
  if (state.files.length) {
    const total = state.files.reduce((n, f) => n + f.size, 0);
    items.push(h("li", { class: "lx-files__total" },
      t("attach.total", { count: state.files.length, size: formatBytes(total, t) })));
  }
  if (problem) items.push(h("li", { class: "lx-error" }, attachmentMessage(problem)));
  page.fileList.replaceChildren(...items);
  page.fileList.hidden = items.length === 0;
  if (problem) announce(page.filesStatus, attachmentMessage(problem));
  clearFixedErrors(); // an attachment problem may be gone
}

function attachmentMessage(problem) {
  return t(problem.key, {
    count: problem.count, max: problem.key === "attach.tooLarge"
      ? formatBytes(problem.max, t) : problem.max,
    size: problem.size === undefined ? "" : formatBytes(problem.size, t),
  });
}

/** @param {string} what */
function valueOf(what) {
  if (what === "mode") {
    return page.form.querySelector('input[name="lx-mode"]:checked')?.value ?? "";
  }
  return byId(what).value;
}

function formValues() {
  const mode = valueOf("mode");
  return {
    realNameChosen: mode !== "",
    realName: mode === "real",
    identity: {
      name: valueOf("lx-identity-name"),
      contact: valueOf("lx-identity-contact"),
      idNumber: valueOf("lx-identity-id"),
    },
    reported: {
      name: valueOf("lx-reported-name"),
      unit: valueOf("lx-reported-unit"),
      post: valueOf("lx-reported-post"),
      rank: valueOf("lx-rank"),
    },
    region: valueOf("lx-region"),
    category: page.category.value,
    problemType: problemCode(page.category.value, page.subtype.value),
    title: valueOf("lx-title"),
    text: valueOf("lx-text"),
    lang,
    acknowledged: byId("lx-acknowledge").checked,
  };
}

function currentProblems() {
  const values = formValues();
  const ids = new Set(checkReport(values).map((p) => p.id));
  const docBytes = new TextEncoder().encode(JSON.stringify(reportDocument(values))).length + 4;
  if (checkAttachments(state.files, state.limits, docBytes)) ids.add("lx-files");
  return ids;
}

function clearFixedErrors() {
  if (!page.form.querySelector("[aria-invalid]")) return;
  const open = currentProblems();
  for (const node of [...page.form.querySelectorAll("[aria-invalid]")]) {
    if (!open.has(node.id)) clearFieldError(page.summary, node.id);
  }
}

function fieldName(id) {
  return byId(id).dataset.lxName ?? "";
}

async function onSubmit(event) {
  event.preventDefault();
  if (panel.sending || !state.lx) return;
  hideMessage(page.sendMessage);
  const values = formValues();
  const doc = reportDocument(values);
  const problems = checkReport(values).map((p) => ({
    id: p.id, message: t(p.key, { label: fieldName(p.id), max: p.max }),
  }));
  const docBytes = new TextEncoder().encode(JSON.stringify(doc)).length + 4;
  const attachmentProblem = checkAttachments(state.files, state.limits, docBytes);
  if (attachmentProblem) {
    problems.push({ id: "lx-files", message: attachmentMessage(attachmentProblem) });
  }
  if (problems.length) {
    showErrors(page.form, page.summary, problems, t("summary.title"));
    return;
  }
  clearErrors(page.form, page.summary);
  await send(doc);
}

// --- sending ---------------------------------------------------------------------------------

/** The sealed envelope for these values: the last one if nothing changed, else a new seal. */
async function sealed(doc) {
  const key = JSON.stringify([doc, state.files.map(fileKey), state.keys.office.keyId]);
  if (state.sealed?.key === key) return state.sealed;
  panel.stage("seal");
  await nextFrame();
  const attachments = await readAttachments(state.files);
  const { lx, keys, limits } = state;
  const packed = lx.packPayload(lx.validateReport(doc), attachments).length;
  if (limits && packed > limits.max_plaintext_bytes) {
    throw new GatewayError("body-too-large", `${packed} bytes`);
  }
  const result = lx.sealReport(doc, attachments, {
    officeKey: keys.office.publicKey, officeKeyId: keys.office.keyId,
  });
  state.sealed = { key, ...result, officeKeyId: keys.office.keyId };
  return state.sealed;
}

async function send(doc) {
  const signal = panel.start();
  const gateway = state.config.gateway_url;
  try {
    if (!state.limits) await refreshLimits();
    let envelope = await sealed(doc);
    let answer;
    try {
      answer = await sendEnvelope(state.lx, gateway, "reports", envelope, panel.options(signal));
    } catch (err) {
      // The gateway no longer lists the office key the site published: the site may have been
      // republished after a rotation. Reload the signed keys; if they name another key, seal
      // again (the refused envelope opened no case) and send once more.
      if (!(err instanceof GatewayError) || err.slug !== "unknown-key-id") throw err;
      if (!(await reloadKeys())) throw err;
      panel.stage("keys");
      envelope = await sealed(doc);
      answer = await sendEnvelope(state.lx, gateway, "reports", envelope, panel.options(signal));
    }
    panel.stage("receipt");
    panel.stop();
    showResult(answer, envelope);
  } catch (err) {
    panel.stop();
    panel.fail(err);
  }
}

async function reloadKeys() {
  const before = state.keys.office.keyId;
  try {
    state.keys = await loadTrustedKeys(state.lx, state.config);
  } catch {
    return false;
  }
  showKeyInfo(state.keys);
  return state.keys.office.keyId !== before;
}

function describe(err) {
  return err?.message ?? String(err);
}

// --- the result ------------------------------------------------------------------------------

function showResult(answer, envelope) {
  const { lx, keys } = state;
  let receiptProblem = null;
  try {
    lx.verifyReceipt(answer.receipt, {
      gatewayKey: keys.gateway.publicKey,
      gatewayKeyId: keys.gateway.keyId,
      expect: { receiptId: envelope.receiptId, kind: "report", keyId: envelope.officeKeyId },
    });
  } catch (err) {
    receiptProblem = describe(err);
  }
  let token;
  try {
    token = lx.formatToken(String(answer.token));
  } catch (err) {
    panel.fail(new GatewayError("bad-token", describe(err)));
    return;
  }
  const receipt = answer.receipt ?? {};
  const copyStatus = h("p", { class: "lx-hint", "aria-live": "polite" });
  const copy = h("button", { type: "button", class: "md-button md-button--primary" },
    t("done.copy"));
  const tokenNode = tokenElement(token);
  copy.addEventListener("click", async () => {
    if (await copyText(token)) {
      announce(copyStatus, t("done.copied"));
      return;
    }
    // No clipboard access (an old browser, or refused): select the token for Ctrl+C instead.
    getSelection()?.selectAllChildren(tokenNode);
    announce(copyStatus, t("done.copyFailed"));
  });
  const print = h("button", { type: "button", class: "md-button" }, t("done.print"));
  print.addEventListener("click", () => {
    const root = document.documentElement;
    root.classList.add("lx-print-result"); // print the token and advice, not the whole page
    window.addEventListener("afterprint", () => root.classList.remove("lx-print-result"),
      { once: true });
    window.print();
  });
  const download = h("button", { type: "button", class: "md-button" }, t("done.download"));
  download.addEventListener("click", () => downloadJson(receiptFilename(receipt), receipt));
  const another = h("button", { type: "button", class: "md-button" }, t("done.another"));
  another.addEventListener("click", () => {
    page.result.replaceChildren();
    page.result.hidden = true;
    page.form.hidden = false;
    byId("lx-mode-anonymous").focus();
  });
  page.result.replaceChildren(...[
    h("h2", { id: "lx-result-title" }, t("done.title")),
    receiptProblem && h("div", { class: "lx-message lx-message--warning" },
      h("p", {}, t("err.receipt", { detail: receiptProblem }))),
    h("p", {}, t("done.received", {
      date: receipt.received ?? "?", receipt: String(receipt.receipt_id ?? "").slice(0, 16),
    })),
    answer.duplicate && h("p", {}, t("done.duplicate")),
    h("p", { class: "lx-token-label", id: "lx-token-label" }, t("done.tokenLabel")),
    tokenNode,
    h("div", { class: "lx-actions lx-no-print" }, copy, print, download),
    copyStatus,
    h("ul", { class: "lx-advice" }, ["done.advice1", "done.advice2", "done.advice3",
      "done.advice4", "done.advice5"].map((key) => h("li", {}, t(key)))),
    h("p", { class: "lx-no-print" }, another),
  ].filter(Boolean));
  // The report was delivered: clear it from the page (a shared computer keeps nothing).
  page.form.reset();
  state.files = [];
  state.sealed = null;
  state.dirty = false;
  renderFiles();
  page.identity.hidden = true;
  fillSubtypes();
  page.form.hidden = true;
  page.result.hidden = false;
  // Below the sticky header (the result's scroll-margin-top), heading and token in view.
  page.result.focus({ preventScroll: true });
  page.result.scrollIntoView({ block: "start" });
}

init();
