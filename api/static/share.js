// The event page's share box: the Web Share API where the browser has it, else a copy
// button; without script the address stays in its read-only field to copy by hand.
(function () {
  "use strict";
  var box = document.getElementById("share");
  if (!box) { return; }
  var field = document.getElementById("share-url");
  var native = document.getElementById("share-native");
  var copy = document.getElementById("share-copy");
  var status = document.getElementById("share-status");
  var url = field.value;
  if (navigator.share) {
    native.hidden = false;
    native.addEventListener("click", function () {
      navigator.share({ title: box.getAttribute("data-title") || document.title, url: url })
        .catch(function () { /* the visitor closed the share sheet */ });
    });
  }
  copy.hidden = false;
  copy.addEventListener("click", function () {
    var done = function () { status.textContent = box.getAttribute("data-copied") || ""; };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(url).then(done, function () {
        field.select();
        if (document.execCommand("copy")) { done(); }
      });
    } else {
      field.select();
      if (document.execCommand("copy")) { done(); }
    }
  });
})();
