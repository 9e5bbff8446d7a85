/* The exam page: saves each answer as it is given, keeps unsent answers on the phone, counts down from the
   server's deadline. Without this script the page still works: its form saves and submits every answer. */
(function () {
  "use strict";
  var form = document.getElementById("attempt-form");
  if (!form || !window.fetch || !window.JSON) { return; }
  var text = JSON.parse(document.getElementById("exam-text").textContent);
  var csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
  var storageKey = "carestar-attempt-" + form.dataset.attempt;
  var submitButton = document.getElementById("submit-button");
  var connection = document.getElementById("connection-state");
  var countdown = document.getElementById("countdown-value");
  var endAt = Date.now() + Number(document.getElementById("countdown").dataset.remaining) * 1000;
  var pending = readPending();
  var inFlight = false;
  var closed = false;
  var retryDelay = 1000;
  var lastRevision = 0;

  function readPending() {
    try { return JSON.parse(window.localStorage.getItem(storageKey)) || {}; } catch (e) { return {}; }
  }
  function keepPending() {
    try { window.localStorage.setItem(storageKey, JSON.stringify(pending)); } catch (e) { /* private mode */ }
  }
  function nextRevision() {
    lastRevision = Math.max(Date.now(), lastRevision + 1);
    return lastRevision;
  }
  function fieldsetFor(id) { return document.getElementById("question-" + id); }
  function chosen(fieldset) {
    return Array.prototype.map.call(fieldset.querySelectorAll("input[type=radio]:checked, input[type=checkbox]:checked"),
      function (input) { return input.value; });
  }
  function showChoices(fieldset, choices) {
    Array.prototype.forEach.call(fieldset.querySelectorAll("input[type=radio], input[type=checkbox]"), function (input) {
      input.checked = choices.indexOf(input.value) !== -1;
    });
  }
  function setState(fieldset, state, message) {
    var line = fieldset.querySelector("[data-state]");
    line.className = "save-state " + state;
    line.textContent = message || text[state];
  }
  function countAnswered() {
    var count = 0;
    Array.prototype.forEach.call(form.querySelectorAll("fieldset[data-question]"), function (fieldset) {
      if (chosen(fieldset).length) { count += 1; }
    });
    document.getElementById("answered-count").textContent = count;
    return count;
  }
  function showConnection(message) {
    connection.hidden = !message;
    connection.textContent = message || "";
  }

  function send() {
    if (inFlight || closed) { return; }
    var ids = Object.keys(pending);
    if (!ids.length) { return; }
    var id = ids[0];
    var entry = pending[id];
    inFlight = true;
    fetch(form.dataset.answerUrl, {
      method: "POST",
      credentials: "same-origin",
      redirect: "manual",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
      body: JSON.stringify({ question: Number(id), choices: entry.choices, revision: entry.revision })
    }).then(function (response) {
      if (response.type === "opaqueredirect" || response.status === 0 || response.status === 403) {
        throw new Error("login");
      }
      return response.json().then(function (data) { return { status: response.status, data: data }; });
    }).then(function (result) {
      inFlight = false;
      retryDelay = 1000;
      showConnection("");
      var fieldset = fieldsetFor(id);
      if (result.status === 409) {
        closed = true;
        pending = {};
        keepPending();
        window.location.href = result.data.redirect;
        return;
      }
      var current = pending[id];
      if (current && current.revision === entry.revision) { delete pending[id]; keepPending(); }
      if (result.status === 200 && result.data.ok) {
        endAt = Date.now() + result.data.remaining_seconds * 1000;
        if (!pending[id] && fieldset) {
          showChoices(fieldset, result.data.choices);
          setState(fieldset, result.data.choices.length ? "saved" : "unanswered");
        }
      } else if (fieldset) {
        setState(fieldset, "failed", result.data.error || text.failed);
      }
      countAnswered();
      send();
    }).catch(function (error) {
      inFlight = false;
      Object.keys(pending).forEach(function (key) {
        var fieldset = fieldsetFor(key);
        if (fieldset) { setState(fieldset, "failed"); }
      });
      showConnection(error && error.message === "login" ? text.login : text.offline);
      window.setTimeout(send, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 15000);
    });
  }

  function refresh() {
    if (closed || inFlight) { return; }
    fetch(form.dataset.stateUrl, { credentials: "same-origin", redirect: "manual", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (response.status !== 200 && response.status !== 409) { throw new Error("state"); }
        return response.json().then(function (data) { return { status: response.status, data: data }; });
      }).then(function (result) {
        if (result.status === 409) { closed = true; window.location.href = result.data.redirect; return; }
        endAt = Date.now() + result.data.remaining_seconds * 1000;
        Object.keys(result.data.answers).forEach(function (key) {
          var fieldset = fieldsetFor(key);
          if (fieldset && !pending[key]) {
            showChoices(fieldset, result.data.answers[key]);
            setState(fieldset, result.data.answers[key].length ? "saved" : "unanswered");
          }
        });
        countAnswered();
        send();
      }).catch(function () { showConnection(text.offline); });
  }

  form.addEventListener("change", function (event) {
    var fieldset = event.target.closest("fieldset[data-question]");
    if (!fieldset || closed) { return; }
    pending[fieldset.dataset.question] = { choices: chosen(fieldset), revision: nextRevision() };
    keepPending();
    setState(fieldset, "saving");
    countAnswered();
    send();
  });

  form.addEventListener("submit", function (event) {
    var submitting = event.submitter ? event.submitter === submitButton : true;
    if (submitting && !closed) {
      var missing = form.querySelectorAll("fieldset[data-question]").length - countAnswered();
      if (missing > 0 && !window.confirm(text.confirm.replace("%(count)s", missing))) {
        event.preventDefault();
        return;
      }
    }
    // The form carries every answer on the page: nothing is left waiting on the phone.
    pending = {};
    keepPending();
  });

  function tick() {
    var remaining = Math.max(0, Math.round((endAt - Date.now()) / 1000));
    var hours = Math.floor(remaining / 3600);
    var minutes = Math.floor((remaining % 3600) / 60);
    var seconds = remaining % 60;
    countdown.textContent = (hours ? hours + ":" : "") + (minutes < 10 ? "0" : "") + minutes + ":" +
      (seconds < 10 ? "0" : "") + seconds;
    countdown.parentNode.className = remaining <= 300 ? "warning" : "";
    if (remaining === 0 && !closed) {
      closed = true;
      showConnection(text.time_up);
      pending = {};
      keepPending();
      var last = document.createElement("input");
      last.type = "hidden";
      last.name = "submit";
      last.value = "1";
      form.appendChild(last);
      form.submit();
      return;
    }
    window.setTimeout(tick, 1000 - (Date.now() % 1000));
  }

  // Answers given while offline before a reload are still on the phone: show them and send them.
  Object.keys(pending).forEach(function (key) {
    var fieldset = fieldsetFor(key);
    if (!fieldset) { delete pending[key]; return; }
    showChoices(fieldset, pending[key].choices);
    setState(fieldset, "saving");
    lastRevision = Math.max(lastRevision, pending[key].revision);
  });
  keepPending();
  countAnswered();
  send();
  tick();
  window.addEventListener("online", send);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { refresh(); } });
}());
