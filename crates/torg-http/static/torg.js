// A little help where JavaScript runs; every page works without it.
document.addEventListener("DOMContentLoaded", () => {
  // Choosing a canned reply fills the reply box at once.
  for (const select of document.querySelectorAll("select[data-canned-target]")) {
    const target = document.getElementById(select.dataset.cannedTarget);
    const button = select.form && select.form.querySelector("button");
    if (button) button.hidden = true;
    select.addEventListener("change", () => {
      const option = select.selectedOptions[0];
      if (target && option && option.dataset.text) { target.value = option.dataset.text; target.focus(); }
    });
  }
  // Move focus to an error summary so screen readers announce it.
  const error = document.getElementById("form-error");
  if (error) error.focus();
});
