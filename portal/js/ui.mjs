/**
 * DOM helpers shared by the submit and status pages: building elements (text only, never
 * HTML strings), the error summary with links to the fields, field errors, live announcements,
 * the token display, copying and downloading.
 */

/**
 * Build an element. Attributes whose value is false/null/undefined are left out; children are
 * nodes or strings (set as text, never parsed as HTML).
 * @param {string} tag
 * @param {Record<string, any>} [attrs]
 * @param {...(Node | string | null | undefined | false)} children
 */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** @param {string} id */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`the page has no #${id}`);
  return node;
}

/** Put a message in a live region (polite by default), replacing what was there. */
export function announce(region, text) {
  region.textContent = "";
  // A new text node after clearing makes screen readers read the same words again.
  if (text) region.append(document.createTextNode(text));
}

function describedBy(node, id, add) {
  const ids = new Set((node.getAttribute("aria-describedby") ?? "").split(/\s+/).filter(Boolean));
  if (add) ids.add(id);
  else ids.delete(id);
  if (ids.size) node.setAttribute("aria-describedby", [...ids].join(" "));
  else node.removeAttribute("aria-describedby");
}

/** Remove every field error and the summary of `form`. */
export function clearErrors(form, summary) {
  for (const node of form.querySelectorAll(".lx-error")) node.remove();
  for (const node of form.querySelectorAll("[aria-invalid]")) {
    node.removeAttribute("aria-invalid");
    describedBy(node, `${node.id}-error`, false);
  }
  for (const node of form.querySelectorAll(".lx-field--error")) {
    node.classList.remove("lx-field--error");
  }
  summary.hidden = true;
  summary.replaceChildren();
}

/**
 * Remove one field's error (it has been fixed) and its line in the summary; the summary goes
 * when its last line does.
 * @param {HTMLElement} summary @param {string} id
 */
export function clearFieldError(summary, id) {
  const node = document.getElementById(id);
  if (!node) return;
  document.getElementById(`${id}-error`)?.remove();
  node.removeAttribute("aria-invalid");
  describedBy(node, `${id}-error`, false);
  (node.closest(".lx-field") ?? node.parentElement)?.classList.remove("lx-field--error");
  for (const link of summary.querySelectorAll("a")) {
    if (link.getAttribute("href") === `#${id}`) link.closest("li")?.remove();
  }
  if (!summary.querySelector("li")) {
    summary.hidden = true;
    summary.replaceChildren();
  }
}

/** The control to focus for a field id: the element, or a fieldset's first input. */
function focusTarget(id) {
  const node = document.getElementById(id);
  if (node?.tagName === "FIELDSET") return node.querySelector("input, select, textarea");
  return node;
}

/**
 * Show errors: a message at each field and a summary, focused, whose links move to the fields.
 * @param {HTMLFormElement} form
 * @param {HTMLElement} summary the summary container (role=alert, tabindex=-1)
 * @param {{ id: string, message: string }[]} errors
 * @param {string} title
 */
export function showErrors(form, summary, errors, title) {
  clearErrors(form, summary);
  const items = [];
  for (const { id, message } of errors) {
    const node = document.getElementById(id);
    if (node) {
      const field = node.closest(".lx-field") ?? node.parentElement;
      field.classList.add("lx-field--error");
      const error = h("p", { class: "lx-error", id: `${id}-error` }, message);
      const anchor = field.querySelector(".lx-control") ?? node;
      anchor.before(error);
      node.setAttribute("aria-invalid", "true");
      describedBy(node, `${id}-error`, true);
    }
    const link = h("a", { href: `#${id}` }, message);
    link.addEventListener("click", (event) => {
      event.preventDefault();
      const target = focusTarget(id);
      target?.focus();
      (document.getElementById(id)?.closest(".lx-field") ?? target)?.scrollIntoView({
        block: "center",
      });
    });
    items.push(h("li", {}, link));
  }
  summary.append(h("h2", { class: "lx-summary__title" }, title), h("ul", {}, items));
  summary.hidden = false;
  summary.focus();
}

/**
 * Show a page-level message (error, warning or information) in `box`.
 * @param {HTMLElement} box
 * @param {"error" | "warning" | "info" | "success"} kind
 * @param {...(Node | string)} content
 */
export function showMessage(box, kind, ...content) {
  for (const name of [...box.classList]) {
    if (name.startsWith("lx-message--")) box.classList.remove(name);
  }
  box.classList.add("lx-message", `lx-message--${kind}`);
  box.replaceChildren(...content.map((c) => (typeof c === "string" ? h("p", {}, c) : c)));
  box.hidden = false;
}

/** Hide a message box. */
export function hideMessage(box) {
  box.hidden = true;
  box.replaceChildren();
}

/**
 * The token, large and in groups; the groups are separate for the eye, one string for copying.
 * @param {string} formatted "XXXX-XXXX-…"
 */
export function tokenElement(formatted) {
  const groups = formatted.split("-");
  const node = h("p", { class: "lx-token", translate: "no" });
  groups.forEach((group, i) => {
    node.append(h("span", { class: "lx-token__group" }, group));
    // Dashes stay in the text (muted by CSS) so that selecting and copying gives the token.
    if (i < groups.length - 1) node.append(h("span", { class: "lx-token__dash" }, "-"));
  });
  return node;
}

/** Copy text to the clipboard; false when the browser refuses. @param {string} text */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Offer a JSON document as a file download (made in the browser; nothing is sent anywhere).
 * @param {string} filename
 * @param {unknown} doc
 */
export function downloadJson(filename, doc) {
  downloadBytes(filename, "application/json", JSON.stringify(doc, null, 2) + "\n");
}

/**
 * Offer bytes as a file download.
 * @param {string} filename
 * @param {string} type
 * @param {BlobPart} data
 */
export function downloadBytes(filename, type, data) {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const link = h("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * A progress bar with a label, for the proof of work.
 * @param {HTMLProgressElement} bar
 */
export function setProgress(bar, fraction) {
  bar.value = Math.max(0, Math.min(1, fraction));
  bar.textContent = `${Math.round(bar.value * 100)}%`;
}
