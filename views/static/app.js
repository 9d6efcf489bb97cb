// statesrv dashboard script. Every page works without it; it adds local
// times, live countdowns, live reloading of pages marked data-live, the
// cron preview of the process form, and "select all" boxes.
"use strict";
(function () {
	var pad = function (n) { return (n < 10 ? "0" : "") + n; };

	// Times: the server writes UTC; show them in the viewer's zone and keep
	// UTC as the hover title.
	function localTimes(root) {
		root.querySelectorAll("time[datetime]").forEach(function (el) {
			var d = new Date(el.getAttribute("datetime"));
			if (isNaN(d)) return;
			el.textContent = d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " +
				pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
		});
	}

	function dur(ms) {
		var s = Math.floor(ms / 1000), out = "";
		var d = Math.floor(s / 86400); s -= d * 86400;
		var h = Math.floor(s / 3600); s -= h * 3600;
		var m = Math.floor(s / 60); s -= m * 60;
		if (d) out += d + "d";
		if (h) out += h + "h";
		if (m && !d) out += m + "m";
		if (!d && !h) out += s + "s";
		return out || "0s";
	}

	function countdowns() {
		var now = Date.now();
		document.querySelectorAll("[data-deadline]").forEach(function (el) {
			var left = new Date(el.getAttribute("data-deadline")).getTime() - now;
			if (isNaN(left)) return;
			el.textContent = left >= 0 ? "in " + dur(left) : "overdue " + dur(-left);
			el.classList.toggle("overdue", left < 0);
		});
	}

	// Live pages: on every change of the log, fetch the page again and swap
	// its <main>, keeping focus and open <details> where they can be kept.
	function live() {
		var main = document.querySelector("main[data-live]");
		if (!main || !window.EventSource) return;
		var busy = false, again = false;
		function refresh() {
			if (busy) { again = true; return; }
			busy = true;
			fetch(location.href, { headers: { "X-Statesrv-Live": "1" }, credentials: "same-origin" })
				.then(function (r) {
					if (r.redirected && new URL(r.url).pathname === "/login") {
						// The session ended: show the login page, which comes back here.
						location.reload();
					}
					if (r.redirected || !r.ok) throw new Error("status " + r.status);
					return r.text();
				})
				.then(function (html) {
					var doc = new DOMParser().parseFromString(html, "text/html");
					var next = doc.querySelector("main");
					if (!next) return;
					var open = Array.prototype.map.call(main.querySelectorAll("details[open][id]"), function (d) { return d.id; });
					var kept = keepInputs();
					main.innerHTML = next.innerHTML;
					var nav = document.querySelector("header.top nav"), nextNav = doc.querySelector("header.top nav");
					if (nav && nextNav && nav.innerHTML !== nextNav.innerHTML) nav.innerHTML = nextNav.innerHTML;
					open.forEach(function (id) { var d = document.getElementById(id); if (d) d.open = true; });
					localTimes(main); countdowns();
					kept();
					main.setAttribute("data-refreshed", String(Date.now()));
				})
				.catch(function (e) { document.documentElement.setAttribute("data-live-error", String(e)); })
				.finally(function () {
					busy = false;
					if (again) { again = false; setTimeout(refresh, 300); }
				});
		}
		// keepInputs notes what the viewer has done to the page's fields
		// (ticked boxes, typed text, focus) and returns a function that does
		// it again to the new content, so an update never undoes their work.
		function keepInputs() {
			// getAttribute, not form.id: a control named "id" would shadow it.
			var key = function (el) {
				var f = el.form;
				return (f ? f.getAttribute("id") || f.getAttribute("action") || "" : "") + "\u0000" + el.name;
			};
			var boxes = {}, values = {}, focus = null;
			main.querySelectorAll("input[name], select[name], textarea[name]").forEach(function (el) {
				if (el.type === "checkbox" || el.type === "radio") {
					if (el.checked !== el.defaultChecked) boxes[key(el) + "\u0000" + el.value] = el.checked;
				} else if (el.type !== "hidden" && el.value !== el.defaultValue) {
					values[key(el)] = el.value;
				}
			});
			var a = document.activeElement;
			if (a && main.contains(a) && (a.id || a.name)) {
				focus = { id: a.id, key: a.name ? key(a) : "", start: a.selectionStart, end: a.selectionEnd };
			}
			return function () {
				main.querySelectorAll("input[name], select[name], textarea[name]").forEach(function (el) {
					var k = key(el);
					if (el.type === "checkbox" || el.type === "radio") {
						if (k + "\u0000" + el.value in boxes) el.checked = boxes[k + "\u0000" + el.value];
					} else if (k in values) {
						el.value = values[k];
					}
					if (focus && !focus.id && focus.key === k) { el.focus(); focus = null; }
				});
				if (focus && focus.id) {
					var f = document.getElementById(focus.id);
					if (f) {
						f.focus();
						try { if (focus.start != null) f.setSelectionRange(focus.start, focus.end); } catch (e) {}
					}
				}
			};
		}
		var last = main.getAttribute("data-seq");
		var es = new EventSource("/live");
		es.addEventListener("seq", function (ev) {
			if (ev.data === last) return;
			last = ev.data;
			refresh();
		});
		// A stream the server refuses for good (the session ended) closes:
		// fetch the page once more, which finds out why.
		es.addEventListener("error", function () {
			if (es.readyState === EventSource.CLOSED) refresh();
		});
		document.documentElement.setAttribute("data-live-connected", "true");
	}

	// The process form: preview the next fire times as the schedule is typed.
	function cronPreview() {
		var form = document.querySelector("form[data-preview-url]");
		if (!form) return;
		var out = form.querySelector("[data-preview]");
		var timer;
		function update() {
			var q = new URLSearchParams();
			["schedule", "timezone"].forEach(function (n) {
				var el = form.elements[n];
				if (el) q.set(n, el.value);
			});
			fetch(form.getAttribute("data-preview-url") + "?" + q.toString(), { credentials: "same-origin" })
				.then(function (r) { return r.text(); })
				.then(function (html) { out.innerHTML = html; localTimes(out); });
		}
		["schedule", "timezone"].forEach(function (n) {
			var el = form.elements[n];
			if (el) el.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(update, 250); });
		});
	}

	// Time fields marked data-utc: the server fills them in UTC; show them
	// in the viewer's zone, and send what the viewer typed as UTC.
	function utcInputs() {
		var local = function (d) {
			return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" +
				pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
		};
		var forms = [];
		document.querySelectorAll("input[data-utc]").forEach(function (el) {
			if (el.value) {
				var d = new Date(el.value + "Z");
				if (!isNaN(d)) el.value = local(d);
			}
			if (el.form && forms.indexOf(el.form) < 0) forms.push(el.form);
		});
		forms.forEach(function (form) {
			form.addEventListener("formdata", function (ev) {
				form.querySelectorAll("input[data-utc][name]").forEach(function (el) {
					if (!el.value) return;
					var d = new Date(el.value); // no zone: the viewer's local time
					if (!isNaN(d)) ev.formData.set(el.name, d.toISOString());
				});
			});
		});
	}

	// <input type=checkbox data-check-all="name"> ticks every box named name.
	function checkAll() {
		document.addEventListener("change", function (ev) {
			var name = ev.target.getAttribute && ev.target.getAttribute("data-check-all");
			if (!name) return;
			document.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (b) {
				b.checked = ev.target.checked;
			});
		});
	}

	// <form data-confirm="text"> asks before submitting.
	function confirms() {
		document.addEventListener("submit", function (ev) {
			var text = ev.target.getAttribute && ev.target.getAttribute("data-confirm");
			if (text && !window.confirm(text)) ev.preventDefault();
		});
	}

	document.addEventListener("DOMContentLoaded", function () {
		localTimes(document);
		countdowns();
		setInterval(countdowns, 1000);
		live();
		cronPreview();
		utcInputs();
		checkAll();
		confirms();
	});
})();
