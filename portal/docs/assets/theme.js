/* Accessibility fixes for Material's own components, on every page (issue 16).
 *
 * - A wide table sits in a scrolling wrapper that a keyboard could not reach: the wrapper gets
 *   a Tab stop, the role "region" and a name (the table's caption, else the heading above it).
 * - The search dialog gets a name (the search box's placeholder).
 *
 * Material re-renders the content on instant navigation, so the fixes run on every document$.
 */
(function () {
  "use strict";

  function tableName(wrap) {
    var caption = wrap.querySelector("caption");
    if (caption && caption.textContent.trim()) return caption.textContent.trim();
    for (var el = wrap.previousElementSibling; el; el = el.previousElementSibling) {
      if (/^H[1-6]$/.test(el.tagName) || el.tagName === "P") {
        var text = el.textContent.replace(/¶$/, "").trim();
        if (text) return text.slice(0, 120);
      }
    }
    return document.documentElement.lang === "en" ? "Table" : "表格";
  }

  function fix() {
    var wraps = document.querySelectorAll(".md-typeset__scrollwrap");
    for (var i = 0; i < wraps.length; i++) {
      var wrap = wraps[i];
      if (wrap.hasAttribute("tabindex")) continue;
      wrap.setAttribute("tabindex", "0");
      wrap.setAttribute("role", "region");
      wrap.setAttribute("aria-label", tableName(wrap));
    }
    var dialog = document.querySelector(".md-search[role=dialog]");
    var query = document.querySelector(".md-search__input");
    if (dialog && query && !dialog.hasAttribute("aria-label")) {
      dialog.setAttribute("aria-label", query.getAttribute("aria-label") || query.placeholder);
    }
  }

  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(fix);
  } else {
    document.addEventListener("DOMContentLoaded", fix);
  }
})();
