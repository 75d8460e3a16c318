// Cairn UI: the little behaviour htmx does not give for free. No inline script anywhere, so the
// Content-Security-Policy can forbid it. Everything here is progressive: pages work without it.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  // Every htmx request carries the CSRF token, including requests from buttons outside forms.
  document.addEventListener("htmx:config:request", function (evt) {
    var ctx = evt.detail && evt.detail.ctx;
    if (ctx && ctx.request && ctx.request.headers) {
      ctx.request.headers["X-CSRF-Token"] = csrfToken();
    }
  });

  // After a swap, put focus where the user expects it: into a new editor, or back on the
  // Edit button of a field that was just saved or cancelled.
  document.addEventListener("htmx:after:swap", function (evt) {
    var ctx = evt.detail && evt.detail.ctx;
    var target = ctx && ctx.target;
    if (!target || !target.isConnected) {
      var id = ctx && ctx.target && ctx.target.id;
      target = id ? document.getElementById(id) : null;
    }
    if (!target) return;
    var focusable = target.querySelector("[autofocus]") || (target.matches("[autofocus]") ? target : null);
    if (!focusable && target.classList.contains("field")) {
      focusable = target.querySelector(".edit-button");
    }
    if (focusable) focusable.focus();
  });

  function searchBox() {
    return document.getElementById("search-q") || document.getElementById("catalog-q");
  }

  function results() {
    return Array.prototype.slice.call(document.querySelectorAll("#results .result-link"));
  }

  document.addEventListener("keydown", function (evt) {
    var active = document.activeElement;
    var typing = active && (active.tagName === "INPUT" || active.tagName === "TEXTAREA" || active.tagName === "SELECT");
    // "/" jumps to the page's search box from anywhere except a text field.
    if (evt.key === "/" && !typing && !evt.ctrlKey && !evt.metaKey && !evt.altKey) {
      var search = searchBox() || document.getElementById("home-q");
      if (search) {
        evt.preventDefault();
        search.focus();
        search.select();
      }
      return;
    }
    // Escape in an inline editor cancels it.
    if (evt.key === "Escape" && active && active.closest) {
      var editor = active.closest("form.editing");
      if (editor) {
        var cancel = editor.querySelector(".cancel-button");
        if (cancel) {
          evt.preventDefault();
          cancel.click();
        }
        return;
      }
    }
    if (evt.key !== "ArrowDown" && evt.key !== "ArrowUp") return;
    var links = results();
    if (!links.length) return;
    var index = links.indexOf(active);
    if (active && active === searchBox()) {
      if (evt.key === "ArrowDown") {
        evt.preventDefault();
        links[0].focus();
      }
      return;
    }
    if (index === -1) return;
    evt.preventDefault();
    if (evt.key === "ArrowDown") {
      links[Math.min(index + 1, links.length - 1)].focus();
    } else if (index === 0) {
      searchBox().focus();
    } else {
      links[index - 1].focus();
    }
  });

  // Drag to reorder collections: the drop posts the same move the Up/Down buttons do.
  var dragged = null;
  document.addEventListener("dragstart", function (evt) {
    var item = evt.target.closest && evt.target.closest("[data-sortable] > li[draggable]");
    if (!item) return;
    dragged = item;
    item.classList.add("dragging");
    evt.dataTransfer.effectAllowed = "move";
    evt.dataTransfer.setData("text/plain", item.dataset.id);
  });
  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
  });
  document.addEventListener("dragover", function (evt) {
    if (dragged && evt.target.closest && evt.target.closest("[data-sortable] > li")) evt.preventDefault();
  });
  document.addEventListener("drop", function (evt) {
    var over = dragged && evt.target.closest && evt.target.closest("[data-sortable] > li");
    if (!over || over === dragged) return;
    evt.preventDefault();
    var list = over.parentElement;
    var rect = over.getBoundingClientRect();
    var after = evt.clientY > rect.top + rect.height / 2;
    var body = new URLSearchParams();
    body.set("csrf_token", csrfToken());
    body.set(after ? "after" : "before", over.dataset.id);
    fetch(list.dataset.sortable + "/" + encodeURIComponent(dragged.dataset.id) + "/move", {
      method: "POST",
      headers: { "HX-Request": "true", "X-CSRF-Token": csrfToken() },
      body: body,
      credentials: "same-origin",
    })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var holder = document.getElementById("collections");
        if (!holder) return;
        var template = document.createElement("template");
        template.innerHTML = html;
        var fresh = template.content.firstElementChild;
        if (!fresh) return;
        holder.replaceWith(fresh);
        if (window.htmx) window.htmx.process(fresh);
      });
  });
})();
