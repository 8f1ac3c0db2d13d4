// Forms marked "confirm" ask before they send (deactivating a person).
document.querySelectorAll("form.confirm").forEach(function (form) {
  form.addEventListener("submit", function (event) {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
});
