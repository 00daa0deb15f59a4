/* The search page: suggestions while typing (an ARIA combobox) and arrow-key moves between results and filters,
   so a TV remote's arrows and OK button work the page. No framework: a few kilobytes on weak rural networks.
   Without this script the page still works: a plain form and plain links. */
(function () {
  "use strict";
  // Words are written in Chinese; base.html loads Django's JavaScript catalogue for other languages.
  var gettext = window.gettext || function (text) { return text; };

  var DEBOUNCE_MS = 150;
  var form = document.querySelector("form[data-suggest-url]");
  var input = form && form.querySelector("input[name='q']");
  var listbox = document.getElementById("search-suggestions");

  // --- Suggestions -------------------------------------------------------------------------------------------
  function setUpSuggestions() {
    var status = form.querySelector("[data-suggest-status]");
    var suggestUrl = form.getAttribute("data-suggest-url");
    var timer = null;
    var controller = null;
    var asked = 0;
    var items = [];
    var active = -1;

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listbox.id);

    function isOpen() {
      return !listbox.hidden && items.length > 0;
    }

    function close() {
      listbox.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function mark(index) {
      var options = listbox.children;
      for (var i = 0; i < options.length; i++) {
        options[i].setAttribute("aria-selected", i === index ? "true" : "false");
      }
      active = index;
      if (index >= 0) {
        input.setAttribute("aria-activedescendant", options[index].id);
        if (options[index].scrollIntoView) options[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function choose(index) {
      var suggestion = items[index];
      if (!suggestion) return;
      close();
      if (suggestion.url) {
        window.location.assign(suggestion.url);
      } else {
        input.value = suggestion.text;
        form.submit();
      }
    }

    function show(suggestions) {
      items = suggestions;
      listbox.textContent = "";
      suggestions.forEach(function (suggestion, index) {
        var option = document.createElement("li");
        option.id = listbox.id + "-" + index;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.textContent = suggestion.text;
        // mousedown, not click: the box keeps focus, so the list is not closed by the blur first.
        option.addEventListener("mousedown", function (event) {
          event.preventDefault();
          choose(index);
        });
        listbox.appendChild(option);
      });
      active = -1;
      input.removeAttribute("aria-activedescendant");
      if (suggestions.length) {
        listbox.hidden = false;
        input.setAttribute("aria-expanded", "true");
        status.textContent = gettext("%(count)s 条搜索建议，按上下键选择").replace("%(count)s", suggestions.length);
      } else {
        close();
        status.textContent = "";
      }
    }

    function ask() {
      var text = input.value.trim();
      // Whatever is still on its way answers an older text: forget it (a late reply must not reopen the list).
      if (controller) controller.abort();
      var mine = ++asked;
      if (!text) {
        controller = null;
        show([]);
        return;
      }
      controller = typeof AbortController === "function" ? new AbortController() : null;
      fetch(suggestUrl + "?q=" + encodeURIComponent(text.slice(0, 100)), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        signal: controller ? controller.signal : undefined,
      })
        .then(function (response) {
          return response.ok ? response.json() : { suggestions: [] };
        })
        .then(function (data) {
          // Only the answer to the latest keystroke, and only while the member is still in the box.
          if (mine === asked && document.activeElement === input) show(data.suggestions || []);
        })
        .catch(function () {
          /* offline or aborted: no suggestions, the form still works */
        });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      // An emptied box closes the list at once; typing waits for a pause.
      if (input.value.trim()) timer = setTimeout(ask, DEBOUNCE_MS);
      else ask();
    });

    input.addEventListener("keydown", function (event) {
      if (event.isComposing || event.keyCode === 229) return; // a Chinese input method is still composing
      if (!isOpen()) return;
      if (event.key === "ArrowDown") {
        mark(active + 1 < items.length ? active + 1 : 0);
      } else if (event.key === "ArrowUp") {
        mark(active > 0 ? active - 1 : items.length - 1);
      } else if (event.key === "Enter" && active >= 0) {
        choose(active);
      } else if (event.key === "Escape") {
        close();
      } else {
        return;
      }
      event.preventDefault();
      event.stopPropagation(); // the page's own arrow moves are for when the list is closed
    });

    input.addEventListener("blur", close);
  }

  // --- Arrow keys between results, pages and filters ----------------------------------------------------------
  function all(selector) {
    return Array.prototype.slice.call(document.querySelectorAll(selector));
  }

  function mainLinks() {
    return all("[data-nav='result'], [data-nav='pager']");
  }

  var lastInColumn = { main: null, facet: null };

  function moveTo(element) {
    if (element) element.focus();
    return Boolean(element);
  }

  function step(list, element, by) {
    var index = list.indexOf(element) + by;
    return index >= 0 && index < list.length ? list[index] : null;
  }

  function otherColumn(group) {
    if (group === "facet") {
      var main = mainLinks();
      return main.indexOf(lastInColumn.main) >= 0 ? lastInColumn.main : main[0];
    }
    var facets = all("[data-nav='facet']");
    return facets.indexOf(lastInColumn.facet) >= 0 ? lastInColumn.facet : facets[0];
  }

  function onArrow(event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    // A Chinese input method is still composing: its arrow keys pick among the candidates.
    if (event.isComposing || event.keyCode === 229) return;
    var element = event.target;
    var group = element.getAttribute && element.getAttribute("data-nav");
    var key = event.key;
    var moved = false;
    if (element === input && key === "ArrowDown") {
      moved = moveTo(mainLinks()[0]); // from the box straight to the first result (TV remote)
    } else if (!group) {
      return;
    } else if (key === "ArrowDown" || key === "ArrowUp") {
      var list = group === "facet" ? all("[data-nav='facet']") : mainLinks();
      var target = step(list, element, key === "ArrowDown" ? 1 : -1);
      if (!target && key === "ArrowUp" && group !== "facet" && input) target = input;
      moved = moveTo(target);
    } else if (key === "ArrowLeft" || key === "ArrowRight") {
      if (group === "pager") {
        moved = moveTo(step(all("[data-nav='pager']"), element, key === "ArrowRight" ? 1 : -1));
      }
      if (!moved) moved = moveTo(otherColumn(group === "facet" ? "facet" : "main"));
    }
    if (moved) event.preventDefault();
  }

  document.addEventListener("focusin", function (event) {
    var group = event.target.getAttribute && event.target.getAttribute("data-nav");
    if (group === "facet") lastInColumn.facet = event.target;
    else if (group) lastInColumn.main = event.target;
  });
  document.addEventListener("keydown", onArrow);

  if (form && input && listbox && window.fetch) setUpSuggestions();
})();
