// The import page, while the server checks an uploaded file or applies it
// (several seconds for a big file): the page says what it is doing and for
// how long, instead of only the browser's spinner. The answer then states the
// server's own figures (rows checked, seconds taken). Words come from the
// form's data-sm-import-busy; text is written with textContent.

const status = document.querySelector(".sm-import-status");

for (const form of document.querySelectorAll("form[data-sm-import-busy]")) {
  let sent = false;
  form.addEventListener("submit", (event) => {
    // Disabling the button would drop its name ("apply") from the post.
    if (sent) {
      event.preventDefault();
      return;
    }
    sent = true;
    if (!status) return;
    const file = form.querySelector('input[type="file"]')?.files?.[0];
    const what = file ? `${form.dataset.smImportBusy} ${file.name}` : form.dataset.smImportBusy;
    const started = Date.now();
    const show = () => {
      const seconds = Math.floor((Date.now() - started) / 1000);
      status.textContent = `${what} · ${seconds} s`;
    };
    show();
    status.hidden = false;
    setInterval(show, 1000);
  });
}
