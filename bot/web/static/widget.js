/*
 * policybot widget: a help bubble that answers questions from a platform's terms, quoting the exact clause.
 *
 *   <script src="https://BOT/widget.js" data-title="Ask about our terms" data-platform="SoundCloud"
 *           data-accent="#ff5500" defer></script>
 *
 * data-api       where the policybot server is (default: where this script was loaded from)
 * data-title     the panel's title
 * data-platform  answer from this platform's documents only (default: the platforms a question names)
 * data-accent    the bubble's colour (#rgb, #rrggbb or a CSS colour name)
 *
 * No framework and no requests anywhere but data-api. Everything from the server is inserted as text
 * (textContent), never as HTML, and links are kept only when they are http(s).
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.__policybotWidget) {
    return;
  }
  window.__policybotWidget = true;

  var HISTORY = 10; // earlier questions sent with a follow-up ("and Bandcamp?")

  function attr(name, fallback) {
    var value = script.getAttribute("data-" + name);
    return value && value.trim() ? value.trim() : fallback;
  }

  function scriptOrigin() {
    try {
      return new URL(script.src, document.baseURI).origin;
    } catch (e) {
      return "";
    }
  }

  var api = attr("api", scriptOrigin()).replace(/\/+$/, "");
  var title = attr("title", "Ask about the terms");
  var platform = attr("platform", "");
  var accent = attr("accent", "#3b5bdb");
  if (!/^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$/.test(accent) && !/^[a-zA-Z]{3,20}$/.test(accent)) {
    accent = "#3b5bdb"; // anything else could smuggle CSS into the style sheet
  }

  var CSS =
    ":host{all:initial}" +
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}" +
    ".bubble{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;" +
    "background:" + accent + ";color:#fff;font-size:26px;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);" +
    "z-index:2147483000}" +
    ".panel{position:fixed;right:20px;bottom:88px;width:min(380px,calc(100vw - 40px));height:min(560px," +
    "calc(100vh - 120px));background:#fff;color:#1f2937;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);" +
    "display:flex;flex-direction:column;overflow:hidden;z-index:2147483000;font-size:14px;line-height:1.45}" +
    ".panel[hidden]{display:none}" +
    ".head{background:" + accent + ";color:#fff;padding:10px 14px;display:flex;align-items:center;" +
    "justify-content:space-between;font-weight:600}" +
    ".close{background:transparent;border:0;color:#fff;font-size:20px;cursor:pointer}" +
    ".log{flex:1;overflow-y:auto;padding:12px}" +
    ".msg{margin:0 0 12px;white-space:pre-wrap;word-wrap:break-word}" +
    ".user{background:#eef2ff;border-radius:10px;padding:8px 10px;margin-left:40px}" +
    ".bot{background:#f9fafb;border:1px solid #e5e7eb;border-radius:10px;padding:8px 10px}" +
    ".note{color:#6b7280;font-size:12px;margin:6px 0 0}" +
    ".error{color:#b91c1c}" +
    ".cites{list-style:none;margin:8px 0 0;padding:0;border-top:1px solid #e5e7eb;white-space:normal}" +
    ".cite{margin:8px 0 0}" +
    ".n{font-weight:700;margin-right:4px}" +
    ".meta{color:#6b7280;font-size:12px}" +
    "blockquote{margin:4px 0;padding-left:8px;border-left:3px solid " + accent + ";white-space:pre-wrap}" +
    "a{color:" + accent + "}" +
    "form{display:flex;gap:6px;padding:10px;border-top:1px solid #e5e7eb}" +
    "input{flex:1;padding:8px;border:1px solid #d1d5db;border-radius:8px;font-size:14px}" +
    "button.send{background:" + accent + ";color:#fff;border:0;border-radius:8px;padding:0 12px;cursor:pointer}" +
    ".foot{color:#9ca3af;font-size:11px;padding:0 12px 8px}";

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    return node;
  }

  function safeUrl(url) {
    if (typeof url !== "string" || !url) {
      return "";
    }
    try {
      var parsed = new URL(url);
      return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : "";
    } catch (e) {
      return "";
    }
  }

  function squash(text) {
    return String(text || "").replace(/\s+/g, " ").trim();
  }

  var host = el("div");
  host.setAttribute("data-policybot", "widget");
  var root = host.attachShadow({ mode: "open" });
  var style = el("style");
  style.textContent = CSS;
  root.appendChild(style);

  var bubble = el("button", "bubble", "?");
  bubble.type = "button";
  bubble.setAttribute("aria-label", title);
  bubble.setAttribute("aria-expanded", "false");

  var panel = el("div", "panel");
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", title);
  var head = el("div", "head");
  head.appendChild(el("span", "title", title));
  var close = el("button", "close", "\u00d7");
  close.type = "button";
  close.setAttribute("aria-label", "Close");
  head.appendChild(close);
  var log = el("div", "log");
  log.setAttribute("aria-live", "polite");
  var form = el("form");
  var input = el("input");
  input.type = "text";
  input.name = "question";
  input.maxLength = 2000;
  input.placeholder = platform ? "Ask about " + platform + "'s terms\u2026" : "Ask about a platform's terms\u2026";
  input.setAttribute("aria-label", "Your question");
  var send = el("button", "send", "Ask");
  send.type = "submit";
  form.appendChild(input);
  form.appendChild(send);
  panel.appendChild(head);
  panel.appendChild(log);
  panel.appendChild(form);
  panel.appendChild(el("div", "foot", "Answers quote the platforms' own documents. Not legal advice."));
  root.appendChild(panel);
  root.appendChild(bubble);

  var history = [];

  function toggle(open) {
    panel.hidden = !open;
    bubble.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) {
      input.focus();
    }
  }

  bubble.addEventListener("click", function () {
    toggle(panel.hidden);
  });
  close.addEventListener("click", function () {
    toggle(false);
  });

  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  function renderAnswer(node, data) {
    node.textContent = "";
    var text = String(data.answer || "");
    node.appendChild(el("div", "text", text));
    (data.notes || []).forEach(function (note) {
      node.appendChild(el("p", "note", "Note: " + note));
    });
    var citations = data.citations || [];
    if (!citations.length) {
      return;
    }
    var shown = squash(text);
    var list = el("ol", "cites");
    citations.forEach(function (c) {
      var item = el("li", "cite");
      item.setAttribute("data-n", String(c.n));
      item.appendChild(el("span", "n", "[" + c.n + "]"));
      item.appendChild(el("strong", null, (c.service || "") + " \u00b7 " + (c.title || c.document || "")));
      // Statements and help pages explain a position without binding the platform; guidelines and policies
      // are rules of their own.
      var explains = ["statement", "help", "note"].indexOf(c.kind) >= 0;
      var kind = c.kind && c.kind !== "terms" ? " \u00b7 " + c.kind + (explains ? ", not binding" : "") : "";
      var date = c.date_statement || "version of " + (c.version_date || "");
      item.appendChild(el("div", "meta", (c.section || "") + " \u00b7 " + date + kind));
      // The extractive answer already quotes each excerpt; repeat it only when the text does not.
      // `text` is the excerpt as a person reads it (Markdown removed); `excerpt` is the exact stored span.
      var quoted = c.text || c.excerpt;
      if (quoted && shown.indexOf(squash(quoted)) < 0) {
        item.appendChild(el("blockquote", null, quoted));
      }
      var href = safeUrl(c.url) || safeUrl(c.source_url);
      if (href) {
        var link = el("a", "source", "Source");
        link.href = href;
        link.target = "_blank";
        link.rel = "noopener noreferrer nofollow";
        item.appendChild(link);
      }
      list.appendChild(item);
    });
    node.appendChild(list);
  }

  function fail(node, message) {
    node.textContent = "";
    node.appendChild(el("span", "error", message));
  }

  function ask(question) {
    log.appendChild(el("div", "msg user", question));
    var answer = el("div", "msg bot", "Searching the terms\u2026");
    log.appendChild(answer);
    scrollDown();
    send.disabled = true;
    var body = { question: question, history: history.slice(-HISTORY) };
    if (platform) {
      body.service = platform;
    }
    fetch(api + "/api/ask", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "omit",
      mode: "cors",
    })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return {};
          })
          .then(function (data) {
            if (response.ok) {
              renderAnswer(answer, data);
              if (!data.abstained) {
                history.push(question);
              }
            } else if (response.status === 429) {
              var wait = response.headers.get("Retry-After") || "a few";
              fail(answer, "Too many questions at once: try again in " + wait + " s.");
            } else {
              fail(answer, data.error || "The help service answered with an error (" + response.status + ").");
            }
          });
      })
      .catch(function () {
        fail(answer, "The help service can't be reached from this page.");
      })
      .then(function () {
        send.disabled = false;
        log.scrollTop = answer.offsetTop - log.offsetTop - 8; // the start of the answer, not its sources
      });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var question = input.value.trim();
    if (!question) {
      return;
    }
    input.value = "";
    ask(question);
  });

  function mount() {
    document.body.appendChild(host);
  }
  if (document.body) {
    mount();
  } else {
    document.addEventListener("DOMContentLoaded", mount);
  }
})();
