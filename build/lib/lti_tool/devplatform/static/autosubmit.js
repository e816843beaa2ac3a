// Submit the page's form at once, as Moodle's launch and auth pages do.
// Kept in a file (no inline script) so pages work under a strict Content-Security-Policy.
document.getElementById("autosubmit").submit();
