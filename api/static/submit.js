// While typing: warn when a similar activity on the same day is already in the calendar.
(function () {
  "use strict";
  var form = document.getElementById("submit-form");
  if (!form) { return; }
  var title = document.getElementById("f-title");
  var day = document.getElementById("f-start_date");
  var box = document.getElementById("similar");
  var heading = document.getElementById("similar-heading");
  var url = form.getAttribute("data-similar-url");
  var timer = null;
  function check() {
    if (!title.value.trim() || !day.value) { box.hidden = true; return; }
    var query = "?title=" + encodeURIComponent(title.value) + "&date=" + encodeURIComponent(day.value);
    fetch(url + query, { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { items: [] }; })
      .then(function (data) {
        box.textContent = "";
        if (!data.items.length) { box.hidden = true; return; }
        var p = document.createElement("p");
        p.textContent = heading.content.textContent.trim();
        box.appendChild(p);
        var ul = document.createElement("ul");
        data.items.forEach(function (item) {
          var li = document.createElement("li");
          var a = document.createElement("a");
          a.href = item.url; a.textContent = item.title; a.target = "_blank"; a.rel = "noopener";
          li.appendChild(a);
          li.appendChild(document.createTextNode(" (" + item.when + ")"));
          ul.appendChild(li);
        });
        box.appendChild(ul);
        box.hidden = false;
      })
      .catch(function () { box.hidden = true; });
  }
  function later() { clearTimeout(timer); timer = setTimeout(check, 400); }
  title.addEventListener("input", later);
  day.addEventListener("change", check);
  day.addEventListener("input", later);
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
  check();
})();
