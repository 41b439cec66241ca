// Vigil console: keyboard shortcuts and the reviewer-wellness reveals. No framework.
(function () {
  "use strict";

  function typing(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  // -- reveal masked terms and blurred images -------------------------------------------
  function reveal(el) {
    if (el.classList.contains("mask")) {
      var group = el.getAttribute("data-mask");
      var all = group ? document.querySelectorAll('.mask[data-mask="' + group + '"]') : [el];
      Array.prototype.forEach.call(all, function (m) {
        if (!m.classList.contains("revealed")) {
          m.textContent = m.getAttribute("data-term");
          m.classList.add("revealed");
          m.setAttribute("aria-label", "revealed term");
        }
      });
      return true;
    }
    var fig = el.closest("figure.blurred");
    if (fig) {
      fig.classList.remove("blurred");
      fig.classList.add("revealed");
      var cap = fig.querySelector("figcaption");
      if (cap) cap.remove();
      return true;
    }
    return false;
  }

  document.addEventListener("click", function (ev) {
    var t = ev.target.closest(".mask, figure.blurred");
    if (t && reveal(t)) ev.preventDefault();
  });

  // -- queue rows: j / k to move, o or Enter to open, c to claim ------------------------
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr[data-row]"));
  var current = -1;
  function select(i) {
    if (!rows.length) return;
    if (current >= 0) rows[current].classList.remove("selected");
    current = Math.max(0, Math.min(rows.length - 1, i));
    rows[current].classList.add("selected");
    rows[current].scrollIntoView({block: "nearest"});
    var link = rows[current].querySelector("a[data-open]");
    if (link) link.focus({preventScroll: true});
  }

  function press(el) {
    if (!el || el.disabled) return false;
    if (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT") {
      el.focus();
    } else {
      el.click();
    }
    return true;
  }

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.key === "Enter" || ev.key === " ") {
      var m = document.activeElement;
      if (m && (m.classList.contains("mask") || (m.matches && m.matches("figure.blurred")))) {
        if (reveal(m)) { ev.preventDefault(); return; }
      }
    }
    if (typing(ev.target)) return;
    var key = ev.key;
    if (key === "?") {
      var keys = document.getElementById("keys");
      if (keys) keys.classList.toggle("hidden");
      ev.preventDefault();
      return;
    }
    if (rows.length) {
      if (key === "j") { select(current + 1); ev.preventDefault(); return; }
      if (key === "k") { select(current - 1); ev.preventDefault(); return; }
      if ((key === "o" || key === "Enter") && current >= 0) {
        press(rows[current].querySelector("a[data-open]")); ev.preventDefault(); return;
      }
      if (key === "c" && current >= 0) {
        press(rows[current].querySelector("[data-claim]")); ev.preventDefault(); return;
      }
    }
    if (!/^[a-z]$/.test(key)) return;
    var target = document.querySelector('[data-key="' + key + '"]');
    if (target && press(target)) ev.preventDefault();
  });
})();
