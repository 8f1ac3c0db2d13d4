// Inside Telegram: the signed initData is exchanged for a desk session.
(function () {
  var app = window.Telegram && window.Telegram.WebApp;
  var failed = document.getElementById("failed");
  if (!app || !app.initData) { failed.hidden = false; return; }
  app.ready();
  var body = new URLSearchParams({ init_data: app.initData });
  fetch("/miniapp/auth", { method: "POST", body: body, credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (answer) {
      if (answer.ok) window.location.replace(answer.next); else failed.hidden = false;
    })
    .catch(function () { failed.hidden = false; });
})();
