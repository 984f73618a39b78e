/**
 * The part of a form that sends: it locks the form while sending (so what is sent is what is
 * shown), tells the stages in a live region, shows the proof of work's progress, can be
 * cancelled, and explains a failure in words with a "Try again" button — the typed text stays.
 */

import { problemKey } from "./i18n.mjs";
import { GatewayError } from "./gateway.mjs";
import { announce, h, hideMessage, setProgress, showMessage } from "./ui.mjs";

/** An attachment that could not be read from disk. */
export class AttachmentError extends Error {
  /** @param {string} fileName */
  constructor(fileName) {
    super(fileName);
    this.name = "AttachmentError";
    this.fileName = fileName;
  }
}

/**
 * Read chosen files as protocol attachments.
 * @param {File[]} files
 */
export function readAttachments(files) {
  return Promise.all(files.map(async (file) => {
    try {
      const data = new Uint8Array(await file.arrayBuffer());
      return { name: file.name, type: file.type || "application/octet-stream", data };
    } catch {
      throw new AttachmentError(file.name);
    }
  }));
}

/** Identity of a chosen file (to notice that the chosen files changed). @param {File} f */
export const fileKey = (f) => `${f.name}\u0000${f.size}\u0000${f.lastModified}`;

/** Let the browser paint a stage message before a long synchronous step. */
export const nextFrame = () => new Promise((resolve) => {
  requestAnimationFrame(() => setTimeout(resolve));
});

/**
 * A failure in words.
 * @param {unknown} err
 * @param {(key: string, vars?: object) => string} t
 */
export function describeFailure(err, t) {
  if (err instanceof GatewayError) {
    if (err.slug === "aborted") return t("stage.cancelled");
    return t(problemKey(err.slug), { status: err.status, slug: err.slug });
  }
  if (err instanceof AttachmentError) return t("attach.unreadable", { name: err.fileName });
  if (err?.name === "PayloadError") return t("err.payload", { detail: err.message });
  return t("err.internal", { detail: err?.message ?? String(err) });
}

export class SendPanel {
  /**
   * @param {HTMLFormElement} form
   * @param {{ progress: HTMLElement, stage: HTMLElement, bar: HTMLProgressElement,
   *           cancel: HTMLButtonElement, message: HTMLElement }} parts
   * @param {(key: string, vars?: object) => string} t
   */
  constructor(form, parts, t) {
    this.form = form;
    this.parts = parts;
    this.t = t;
    this.controller = null;
    parts.cancel.addEventListener("click", () => this.controller?.abort());
  }

  get sending() {
    return this.controller !== null;
  }

  /** Lock the form and show the progress area; returns the signal that Cancel aborts. */
  start() {
    this.controller = new AbortController();
    hideMessage(this.parts.message);
    this.form.setAttribute("aria-busy", "true");
    for (const control of this.form.elements) {
      if (control === this.parts.cancel) continue;
      control.dataset.lxWasDisabled = String(control.disabled);
      control.disabled = true;
    }
    this.parts.progress.hidden = false;
    setProgress(this.parts.bar, 0);
    return this.controller.signal;
  }

  /** Unlock the form. */
  stop() {
    this.controller = null;
    this.form.setAttribute("aria-busy", "false");
    for (const control of this.form.elements) {
      if (control.dataset.lxWasDisabled === undefined) continue;
      control.disabled = control.dataset.lxWasDisabled === "true";
      delete control.dataset.lxWasDisabled;
    }
    this.parts.progress.hidden = true;
    announce(this.parts.stage, "");
  }

  /** Tell a stage ("seal", "challenge", "pow", "send", …). */
  stage(name, info = {}) {
    announce(this.parts.stage, this.t(`stage.${name}`, info));
  }

  /** @param {number} fraction */
  progress(fraction) {
    setProgress(this.parts.bar, fraction);
  }

  /** Options for gateway.sendEnvelope, tied to this panel. */
  options(signal) {
    return {
      signal,
      onStage: (name, info) => this.stage(name, info),
      onProgress: (fraction) => this.progress(fraction),
    };
  }

  /**
   * Explain a failure, say the text is kept, and offer "Try again" (submits the form again).
   * @param {unknown} err
   */
  fail(err) {
    const retry = h("button", { type: "button", class: "md-button" }, this.t("send.retry"));
    retry.addEventListener("click", () => this.form.requestSubmit());
    showMessage(this.parts.message, "error", describeFailure(err, this.t), this.t("send.kept"),
      h("p", {}, retry));
    this.parts.message.focus();
  }
}
