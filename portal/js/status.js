/**
 * The status page: the token is read and checked on this device (a typo is caught by the check
 * character before any request), the lookup id and keys are derived locally, exactly one status
 * shard is fetched from the site, and the case's row — the status, the office's answers and the
 * records of what the reporter sent — is decrypted here.
 * Ratings and additional material go to the gateway as follow-ups signed with the token's key.
 *
 * Nothing about the token leaves the browser except the shard's number and the signed
 * follow-ups; the gateway is not contacted until the person sends or attaches something. The
 * token is kept only in this page's memory, and "Clear" forgets it.
 */

import { formatBytes, pageLang, translator } from "./i18n.mjs";
import { SCHEMAS, SENT_KINDS, TokenError, normalizeToken, parseToken } from "./protocol.mjs";
import {
  LoadError, SITE_ROOT, fetchSiteBytes, fetchSiteJson, loadConfig, loadProtocol, loadTrustedKeys,
} from "./site.mjs";
import { GatewayError, fetchLimits, sendEnvelope } from "./gateway.mjs";
import { ShardError, checkIndex, findRows, shardOf } from "./shards.mjs";
import {
  announce, byId, clearErrors, downloadBytes, downloadJson, h, hideMessage, showErrors,
  showMessage,
} from "./ui.mjs";
import { checkEntries } from "./tlog.mjs";
import { SendPanel, fileKey, nextFrame, readAttachments } from "./sending.mjs";
import { checkAttachments, length, LIMITS, receiptFilename } from "./forms.mjs";

const lang = pageLang();
const t = translator(lang);
const utf8 = new TextDecoder("utf-8", { fatal: true });

const page = {
  tokenForm: byId("lx-token-form"),
  tokenSummary: byId("lx-token-summary"),
  token: byId("lx-token"),
  check: byId("lx-check"),
  clear: byId("lx-clear"),
  loadMessage: byId("lx-load-message"),
  live: byId("lx-status-live"),
  message: byId("lx-status-message"),
  case: byId("lx-case"),
  followups: byId("lx-followups"),
};

const state = {
  lx: null,
  config: null,
  keys: null,
  limits: null,
  /** The token of the case shown, in memory only (needed to sign follow-ups). */
  token: null,
};

/** One follow-up form (rating or material) and what it is sending. */
class FollowupForm {
  constructor(id, kind) {
    this.kind = kind;
    this.form = byId(id);
    this.summary = byId(`${id.replace("-form", "")}-summary`);
    const q = (selector) => this.form.querySelector(selector);
    this.panel = new SendPanel(this.form, {
      progress: q(".lx-progress"), stage: q(".lx-stage"), bar: q("progress"),
      cancel: q(".lx-cancel"), message: q(".lx-send-message"),
    }, t);
    this.submit = q('button[type="submit"]');
    this.fileInput = q('input[type="file"]');
    this.fileList = q(".lx-files");
    this.limitsHint = q(".lx-limits");
    /** @type {File[]} */
    this.files = [];
    this.sealed = null;
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
    this.fileInput?.addEventListener("change", () => {
      const seen = new Set(this.files.map(fileKey));
      for (const file of this.fileInput.files) if (!seen.has(fileKey(file))) this.files.push(file);
      this.fileInput.value = "";
      this.renderFiles();
    });
    // The gateway is asked for its limits only once the person starts attaching files.
    this.fileInput?.addEventListener("focus", () => ensureLimits().then(() => this.renderFiles()));
  }

  renderFiles() {
    if (!this.fileList) return;
    const items = this.files.map((file, index) => {
      const remove = h("button", {
        type: "button", class: "lx-link-button",
        "aria-label": t("attach.removeNamed", { name: file.name }),
      }, t("attach.remove"));
      remove.addEventListener("click", () => {
        this.files.splice(index, 1);
        this.renderFiles();
        this.fileInput.focus();
      });
      return h("li", {}, h("span", { class: "lx-files__name" }, file.name),
        ` (${formatBytes(file.size, t)}) `, remove);
    });
    const problem = checkAttachments(this.files, state.limits);
    if (problem) items.push(h("li", { class: "lx-error" }, attachmentMessage(problem)));
    this.fileList.replaceChildren(...items);
    this.fileList.hidden = items.length === 0;
    if (this.limitsHint && state.limits) {
      const { max_attachments: count, max_plaintext_bytes: size } = state.limits;
      announce(this.limitsHint, count > 0
        ? t("limits.shown", { count, size: formatBytes(size, t) })
        : t("limits.none"));
    }
  }

  /** The follow-up document, or the problems to show. */
  read() {
    const text = byId(`lx-${this.kind === "satisfaction" ? "rating" : "material"}-text`);
    const problems = [];
    const doc = { type: this.kind, text: text.value };
    if (this.kind === "satisfaction") {
      doc.rating = this.form.querySelector('input[name="lx-rating"]:checked')?.value ?? "";
      if (!doc.rating) problems.push({ id: "lx-rating", message: t("followup.ratingRequired") });
    } else if (text.value.trim() === "" && this.files.length === 0) {
      problems.push({ id: text.id, message: t("followup.materialRequired") });
    }
    if (length(text.value) > LIMITS.text) {
      problems.push({
        id: text.id, message: t("field.tooLong", { label: text.dataset.lxName, max: LIMITS.text }),
      });
    }
    const problem = checkAttachments(this.files, state.limits);
    if (problem) problems.push({ id: this.fileInput.id, message: attachmentMessage(problem) });
    return { doc, problems };
  }

  async send() {
    if (this.panel.sending || !state.token || !state.keys) return;
    const { doc, problems } = this.read();
    if (problems.length) {
      showErrors(this.form, this.summary, problems, t("summary.title"));
      return;
    }
    clearErrors(this.form, this.summary);
    const signal = this.panel.start();
    try {
      await ensureLimits();
      const envelope = await this.seal(doc);
      const answer = await sendEnvelope(state.lx, state.config.gateway_url, "followups",
        envelope, this.panel.options(signal));
      this.panel.stage("receipt");
      this.panel.stop();
      this.confirm(answer, envelope);
    } catch (err) {
      this.panel.stop();
      this.panel.fail(err);
    }
  }

  /** The sealed follow-up: the last one while nothing changed (a retry resends it as is). */
  async seal(doc) {
    const { lx, keys, limits, token } = state;
    const key = JSON.stringify([doc, this.files.map(fileKey), keys.office.keyId, token]);
    if (this.sealed?.key === key) return this.sealed;
    this.panel.stage("seal");
    await nextFrame();
    const attachments = await readAttachments(this.files);
    const clean = lx.validateFollowup({ schema: "lianxin/followup/v1", ...doc });
    if (limits && lx.packPayload(clean, attachments).length > limits.max_plaintext_bytes) {
      throw new GatewayError("body-too-large", "too large");
    }
    const sealed = lx.sealFollowup(doc, attachments, {
      officeKey: keys.office.publicKey, officeKeyId: keys.office.keyId, token,
    });
    this.sealed = { key, ...sealed, officeKeyId: keys.office.keyId, rating: doc.rating };
    return this.sealed;
  }

  /** Confirm receipt (verified), offer the receipt, and clear what was sent. */
  confirm(answer, envelope) {
    const receipt = answer?.receipt ?? {};
    let warning = null;
    try {
      state.lx.verifyReceipt(receipt, {
        gatewayKey: state.keys.gateway.publicKey, gatewayKeyId: state.keys.gateway.keyId,
        expect: { receiptId: envelope.receiptId, kind: "followup", keyId: envelope.officeKeyId },
      });
    } catch (err) {
      warning = t("err.receipt", { detail: err.message });
    }
    const download = h("button", { type: "button", class: "md-button" }, t("done.download"));
    download.addEventListener("click", () => downloadJson(receiptFilename(receipt), receipt));
    const what = t(this.kind === "satisfaction" ? "followup.rating" : "followup.material");
    const rating = this.kind === "satisfaction" ? this.sealed?.rating : null;
    const recorded = rating
      ? t("followup.ratingRecorded", { rating: label("rating", rating) })
      : t("followup.materialRecorded");
    const box = this.form.querySelector(".lx-send-message");
    showMessage(box, warning ? "warning" : "success",
      t("followup.sent", {
        what, date: receipt.received ?? "?",
        receipt: String(receipt.receipt_id ?? "").slice(0, 16),
      }),
      h("p", {}, recorded),
      ...(warning ? [warning] : []),
      h("p", {}, download));
    box.focus();
    this.form.reset();
    this.files = [];
    this.sealed = null;
    this.renderFiles();
  }

  enable(on) {
    this.submit.disabled = !on;
    for (const input of this.form.querySelectorAll("input, textarea")) input.disabled = !on;
  }
}

function attachmentMessage(problem) {
  return t(problem.key, {
    count: problem.count,
    max: problem.key === "attach.tooLarge" ? formatBytes(problem.max, t) : problem.max,
    size: problem.size === undefined ? "" : formatBytes(problem.size, t),
  });
}

async function ensureLimits() {
  if (state.limits || !state.config?.gateway_url) return;
  try {
    state.limits = await fetchLimits(state.config.gateway_url);
  } catch {
    // Sending will explain the failure; the limits are checked again then.
  }
}

const rating = new FollowupForm("lx-rating-form", "satisfaction");
const material = new FollowupForm("lx-material-form", "material");

// --- loading ---------------------------------------------------------------------------------

async function init() {
  // The command-line hint names the address this page was actually served from.
  const cliHint = byId("lx-cli-hint");
  if (cliHint) cliHint.textContent = `lianxin status --site ${SITE_ROOT.href} -`;
  page.tokenForm.addEventListener("submit", onCheck);
  page.clear.addEventListener("click", forget);
  try {
    const [lx, config] = await Promise.all([loadProtocol(), loadConfig()]);
    state.lx = lx;
    state.config = config;
  } catch (err) {
    const key = err instanceof LoadError ? err.key : "load.crypto";
    showMessage(page.loadMessage, "error", t(key, { detail: err.detail ?? err.message }));
    return;
  }
  page.check.disabled = false;
  try {
    // Needed only for follow-ups: a lookup works without it.
    state.keys = await loadTrustedKeys(state.lx, state.config);
  } catch (err) {
    showMessage(page.loadMessage, "error", t("load.keys", { detail: err.detail ?? err.message }));
  }
}

// --- looking up a token ----------------------------------------------------------------------

/** The token's problem in words, or null. Runs before anything is fetched. */
function tokenProblem(text) {
  if (text.trim() === "") return t("token.empty");
  try {
    parseToken(text);
    return null;
  } catch (err) {
    if (!(err instanceof TokenError)) throw err;
    if (err.slug === "token-check") return t("token.check");
    for (const char of text.normalize("NFKC")) {
      try {
        normalizeToken(char);
      } catch {
        return t("token.symbol", { char: JSON.stringify(char) });
      }
    }
    return t("token.length", { count: normalizeToken(text).length });
  }
}

function hideCase() {
  page.case.hidden = true;
  page.case.replaceChildren();
  page.followups.hidden = true;
  hideMessage(page.message);
  announce(page.live, "");
}

function forget() {
  page.token.value = "";
  state.token = null;
  hideCase();
  clearErrors(page.tokenForm, page.tokenSummary);
  for (const form of [rating, material]) {
    form.form.reset();
    form.files = [];
    form.sealed = null;
    form.renderFiles();
    hideMessage(form.form.querySelector(".lx-send-message"));
  }
  announce(page.live, t("status.cleared"));
  page.token.focus();
}

async function onCheck(event) {
  event.preventDefault();
  if (!state.lx) return;
  hideCase();
  state.token = null;
  const text = page.token.value;
  const problem = tokenProblem(text);
  if (problem) {
    showErrors(page.tokenForm, page.tokenSummary, [{ id: "lx-token", message: problem }],
      t("summary.title"));
    return;
  }
  clearErrors(page.tokenForm, page.tokenSummary);
  announce(page.live, t("status.loading"));
  page.check.disabled = true;
  try {
    await lookUp(text);
  } finally {
    page.check.disabled = false;
  }
}

async function lookUp(text) {
  const { lx } = state;
  const keys = lx.deriveTokenKeys(text);
  let index;
  let shard;
  try {
    index = checkIndex(await fetchSiteJson("status/index.json"));
    shard = await fetchSiteBytes(`status/${shardOf(keys.lookupId, index.shards)}.bin`);
  } catch (err) {
    const key = err instanceof ShardError ? "status.badData" : "status.fetchFailed";
    announce(page.live, "");
    showMessage(page.message, "error", t(key, { detail: err.detail ?? err.message }));
    page.message.focus();
    return;
  }
  let rows;
  try {
    rows = findRows(shard, keys.lookupId);
  } catch (err) {
    announce(page.live, "");
    showMessage(page.message, "error", t("status.badData", { detail: err.message }));
    return;
  }
  // Try every row with the token's id: one that does not open is a dummy sharing the id by
  // chance, and the scan goes on (as lianxin.status does).
  let found = null;
  let status = null;
  for (const row of rows) {
    try {
      status = JSON.parse(utf8.decode(lx.openWithReplyKey(row.status, text)));
    } catch (err) {
      if (err?.name === "DecryptionError") continue;
      announce(page.live, "");
      showMessage(page.message, "error", t("status.badData", { detail: err.message }));
      return;
    }
    found = row;
    break;
  }
  if (!found) {
    announce(page.live, t("status.notFound", { date: index.asOf }));
    return;
  }
  // The row's items: answers and records of what the reporter sent are shown; an item of a type
  // this page does not know (a later revision's) is ignored (protocol page §13.3).
  const items = found.items.map((sealed) => {
    try {
      return lx.openItem(sealed, text);
    } catch (err) {
      return { error: err.message };
    }
  });
  const answers = items.filter((i) => i.error || i.doc.schema === SCHEMAS.answer);
  const sent = items.map((i) => i.doc)
    .filter((doc) => doc?.schema === SCHEMAS.sent && SENT_KINDS.includes(doc.kind))
    .sort((a, b) => (String(a.date) < String(b.date) ? -1 : String(a.date) > String(b.date) ? 1 : 0));
  state.token = keys.token;
  announce(page.live, "");
  showCase(status, answers, sent);
  showLogEntries(status.log);
}

/** The public log's proof of the token's receipts (portal/js/tlog.mjs). */
async function showLogEntries(entries) {
  const key = state.keys?.publisher?.publicKey;
  if (!key) return;
  const lines = await checkEntries(entries, key, fetchSiteBytes,
    pageLang());
  if (!lines.length) return;
  page.case.append(h("div", { id: "lx-log", class: "lx-log" }, lines.map((l) =>
    h("p", { class: l.ok ? "lx-log-ok" : "lx-log-bad", role: l.ok ? null : "alert" }, l.text))));
}

// --- showing the case ------------------------------------------------------------------------

function label(prefix, value) {
  const key = `${prefix}.${value}`;
  const text = t(key);
  return text === key ? String(value) : text;
}

function showCase(status, answers, sent) {
  const dateNode = (date) => h("time", { datetime: date }, date);
  const due = status.due
    ? h("dd", {}, dateNode(status.due), " ",
      status.colour && h("span", { class: `lx-badge lx-badge--${status.colour}` },
        label("colour", status.colour)),
      status.due_uncertain && h("span", { class: "lx-hint lx-block" }, t("status.dueUncertain")))
    : h("dd", {}, t("status.noDue"),
      status.colour && h("span", { class: `lx-badge lx-badge--${status.colour}` },
        label("colour", status.colour)));
  // The office's steps and the reporter's own follow-ups (ratings, material), by date.
  const events = [
    ...(status.steps ?? []).map((s) => ({ date: s.date, text: label("step", s.step) })),
    ...(status.followups ?? []).map((date) => ({ date, text: t("step.followup") })),
  ].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  const steps = events.map((e) => h("li", {}, dateNode(e.date), " ", e.text));
  const readable = answers.filter((a) => !a.error);
  page.case.replaceChildren(
    h("h2", { id: "lx-case-title" }, t("status.title")),
    h("dl", { class: "lx-facts" },
      h("dt", {}, t("status.state")), h("dd", {}, h("strong", {}, label("state", status.state))),
      h("dt", {}, t("status.due")), due,
      ...(status.satisfaction ? [h("dt", {}, t("status.satisfaction")),
        h("dd", {}, t("status.satisfactionRecorded",
          { rating: label("rating", status.satisfaction) }))] : [])),
    h("p", { class: "lx-hint" }, t("status.asOf", { date: status.as_of })),
    h("h3", {}, t("status.timeline")),
    h("ol", { class: "lx-timeline" }, steps),
    ...(sent.length ? [h("h3", {}, t("status.sent")),
      h("ul", { id: "lx-sent", class: "lx-sent" }, sent.map(sentElement))] : []),
    h("h3", {}, t("status.answers")),
    ...(answers.length ? answers.map(answerElement) : [h("p", {}, t("status.noAnswer"))]),
  );
  page.case.hidden = false;
  const canSend = Boolean(state.keys && state.config.gateway_url);
  rating.enable(canSend && readable.length > 0);
  byId("lx-rating-unavailable").hidden = readable.length > 0;
  material.enable(canSend);
  page.followups.hidden = !canSend;
  page.case.focus();
}

/** One record of what the reporter sent (lianxin/sent/v1): date, kind, title, files. */
function sentElement(doc) {
  const files = Number.isSafeInteger(doc.files) && doc.files > 0
    ? t("sent.files", { count: doc.files }) : "";
  const rating = doc.kind === "satisfaction" && doc.rating ? label("rating", doc.rating) : "";
  return h("li", {}, h("time", { datetime: doc.date }, String(doc.date ?? "")), " ",
    h("strong", {}, label("sent", doc.kind)),
    rating && `${t("sent.colon")}${rating}`,
    doc.title && `${t("sent.colon")}${t("sent.title", { title: String(doc.title) })}`,
    files);
}

function answerElement(answer) {
  if (answer.error) {
    return h("div", { class: "lx-message lx-message--warning" },
      h("p", {}, t("status.answerUnreadable", { detail: answer.error })));
  }
  const { doc, attachments } = answer;
  const outcome = lang === "en" ? doc.outcome_en : doc.outcome_zh;
  const files = attachments.map((a) => {
    const button = h("button", { type: "button", class: "lx-link-button" },
      t("status.attachment", { name: a.name, size: formatBytes(a.data.length, t) }));
    button.addEventListener("click", () => downloadBytes(a.name, a.type, a.data));
    return h("li", {}, button);
  });
  return h("article", { class: "lx-answer" },
    h("h4", {}, label("answer", doc.kind ?? "answer"), " · ",
      h("time", { datetime: doc.date }, doc.date ?? "")),
    doc.number && h("p", { class: "lx-hint" }, t("status.answerNumber", { number: doc.number })),
    outcome && h("p", {}, t("status.outcome", { outcome })),
    h("div", { class: "lx-answer__text" }, String(doc.text ?? "")),
    files.length > 0 && h("ul", {}, files),
  );
}

init();
