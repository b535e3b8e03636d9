// Copy buttons: <button data-copy="id-of-input"> copies that input's value.
// Without the Clipboard API (plain http on another host) the text is selected
// so Ctrl-C works, and the button says so.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copy);
  if (!field) return;
  const label = button.dataset.label || button.textContent;
  button.dataset.label = label;
  try {
    await navigator.clipboard.writeText(field.value);
    button.textContent = "Copied";
  } catch {
    field.select();
    button.textContent = "Selected: press Ctrl-C";
  }
  setTimeout(() => { button.textContent = label; }, 2000);
});
