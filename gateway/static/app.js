// Pharmacy customer tracking: a small single-page UI over the gateway's /api/v1.
// Data is always put into the page as text (never as HTML); the token lives in sessionStorage.
"use strict";

const $ = (selector) => document.querySelector(selector);
const state = { tab: null, pages: {} };

// -- talking to the API ----------------------------------------------------------------------
function session() {
  const token = sessionStorage.getItem("token");
  const user = JSON.parse(sessionStorage.getItem("user") || "null");
  return token && user ? { token, user } : null;
}

async function api(method, path, body, { raw = false, idempotencyKey = null } = {}) {
  const headers = { Accept: "application/json" };
  const current = session();
  if (current) headers.Authorization = `Bearer ${current.token}`;
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  let payload = body;
  if (body !== undefined && !(body instanceof FormData)) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const response = await fetch(`/api/v1${path}`, { method, headers, body: payload });
  if (response.status === 401 && current) {
    signOut("Your session ended; please sign in again.");
    throw new Error("signed out");
  }
  if (!response.ok) {
    let detail = `${response.status} ${response.statusText}`;
    try {
      const problem = await response.json();
      detail = problem.detail || problem.title || detail;
      if (problem.errors) detail += ": " + Object.entries(problem.errors)
        .map(([field, messages]) => `${field} ${[].concat(messages).join(", ")}`).join("; ");
    } catch (_) { /* not JSON */ }
    throw new Error(detail);
  }
  if (raw) return response;
  return response.status === 204 ? null : response.json();
}

function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== "" && value != null) search.set(key, value);
  const text = search.toString();
  return text ? `?${text}` : "";
}

// -- building the page safely ----------------------------------------------------------------
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "onclick") node.addEventListener("click", value);
    else if (key === "class") node.className = value;
    else if (value !== false && value != null) node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function show(message, isError = false) {
  const box = $("#message");
  box.textContent = message;
  box.className = isError ? "error" : "";
  box.hidden = !message;
}

async function attempt(action) {
  try {
    show("");
    return await action();
  } catch (error) {
    if (error.message !== "signed out") show(error.message, true);
    return undefined;
  }
}

const when = (value) => (value ? String(value).replace("T", " ").replace(/\.\d+/, "").replace(/(Z|\+00:00)$/, " UTC") : "");
const status = (value) => el("span", { class: `status ${value}` }, value);
const button = (label, onclick) => el("button", { type: "button", class: "small", onclick }, label);

function table(columns, rows) {
  if (!rows.length) return el("p", {}, "Nothing to show.");
  return el("table", {},
    el("thead", {}, el("tr", {}, columns.map(([title]) => el("th", {}, title)))),
    el("tbody", {}, rows.map((row) => el("tr", {}, columns.map(([, cell, cls]) =>
      el("td", cls ? { class: cls } : {}, cell(row)))))));
}

function pager(name, page, reload) {
  const last = Math.max(1, Math.ceil(page.total / page.per_page));
  return el("div", { class: "pager" },
    button("‹ Prev", () => { state.pages[name] = Math.max(1, page.page - 1); reload(); }),
    `page ${page.page} of ${last} (${page.total})`,
    button("Next ›", () => { state.pages[name] = Math.min(last, page.page + 1); reload(); }));
}

function formValues(form) {
  const values = {};
  for (const field of form.elements) {
    if (!field.name) continue;
    values[field.name] = field.type === "checkbox" ? field.checked : field.value.trim();
  }
  return values;
}

async function download(path, filename) {
  const response = await api("GET", path, undefined, { raw: true });
  const url = URL.createObjectURL(await response.blob());
  const link = el("a", { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// -- sign-in ---------------------------------------------------------------------------------
function signOut(message) {
  sessionStorage.removeItem("token");
  sessionStorage.removeItem("user");
  render();
  if (message) show(message, true);
}

async function signIn(event) {
  event.preventDefault();
  const { username, password } = formValues(event.target);
  await attempt(async () => {
    const answer = await api("POST", "/auth/login", { username, password });
    sessionStorage.setItem("token", answer.access_token);
    sessionStorage.setItem("user", JSON.stringify(answer.user));
    event.target.reset();
    render();
  });
  if (!session()) {
    $("#login-view").append($("#message"));
  }
}

function render() {
  const current = session();
  $("#login-view").hidden = !!current;
  $("#app-view").hidden = !current;
  $("#who").hidden = !current;
  if (!current) {
    $("#login-view").append($("#message"));
    return;
  }
  $("#tabs").after($("#message"));
  show("");
  $("#who-name").textContent = `${current.user.name || current.user.username} (${current.user.role})`;
  for (const tabButton of document.querySelectorAll("[data-admin]")) tabButton.hidden = current.user.role !== "admin";
  openTab(state.tab || "contacts");
}

function openTab(name) {
  state.tab = name;
  for (const tabButton of document.querySelectorAll("#tabs button")) {
    tabButton.classList.toggle("active", tabButton.dataset.tab === name);
  }
  for (const panel of document.querySelectorAll(".tab")) panel.hidden = panel.id !== `tab-${name}`;
  loaders[name]();
}

// -- contacts --------------------------------------------------------------------------------
let interactionContact = null;

async function loadContacts() {
  const filter = formValues($("#contacts-filter"));
  const page = await attempt(() => api("GET", `/contacts${query({ ...filter, page: state.pages.contacts || 1 })}`));
  if (!page) return;
  $("#contacts-list").replaceChildren(table([
    ["Name", (c) => c.name || ""],
    ["Phone", (c) => c.phone],
    ["Status", (c) => status(c.status)],
    ["WhatsApp", (c) => c.whatsapp_status],
    ["Last interaction", (c) => when(c.last_interaction_at)],
    ["Converted", (c) => (c.converted_at ? `${when(c.converted_at)} ${c.conversion_value || ""}` : "")],
    ["", (c) => [
      button("Call / note", () => openInteraction(c)),
      button("WhatsApp", () => whatsappContact(c)),
      c.status !== "converted" && button("Convert", () => convertContact(c)),
      !["converted", "yellow"].includes(c.status) && button("Yellow", () => yellowContact(c)),
    ]],
  ], page.items), pager("contacts", page, loadContacts));
}

function openInteraction(contact) {
  interactionContact = contact;
  $("#interaction-form").reset();
  $("#interaction-dialog").returnValue = "";  // Esc keeps the previous value otherwise
  $("#interaction-dialog").showModal();
}

async function saveInteraction() {
  if ($("#interaction-dialog").returnValue !== "save" || !interactionContact) return;
  const values = formValues($("#interaction-form"));
  const body = { type: values.type };
  for (const key of ["notes", "customer_response", "next_action"]) if (values[key]) body[key] = values[key];
  if (values.call_duration_minutes) body.call_duration_minutes = Number(values.call_duration_minutes);
  if (values.type === "call") body.call_successful = values.call_successful;
  if (values.follow_up_at) body.follow_up_at = new Date(values.follow_up_at).toISOString();
  const saved = await attempt(() => api("POST", `/contacts/${interactionContact.id}/interactions`, body));
  if (saved) { await loadContacts(); show("Interaction recorded."); }
}

async function whatsappContact(contact) {
  const link = await attempt(() => api("GET", `/contacts/${contact.id}/whatsapp-link`));
  if (link) window.open(link.url, "_blank", "noopener");
}

async function convertContact(contact) {
  const value = prompt(`Conversion value for ${contact.name || contact.phone} (e.g. 1250.00), or leave empty:`, "");
  if (value === null) return;
  const body = value.trim() ? { conversion_value: value.trim() } : {};
  if (await attempt(() => api("POST", `/contacts/${contact.id}/convert`, body))) { await loadContacts(); show("Marked converted."); }
}

async function yellowContact(contact) {
  const notes = prompt("Why yellow (visited, did not buy)? Optional notes:", "");
  if (notes === null) return;
  const body = notes.trim() ? { notes: notes.trim() } : {};
  if (await attempt(() => api("POST", `/contacts/${contact.id}/yellow`, body))) { await loadContacts(); show("Marked yellow."); }
}

async function uploadContacts(event) {
  event.preventDefault();
  const form = event.target;
  const data = new FormData();
  data.append("file", form.elements.file.files[0]);
  if (form.elements.list_name.value.trim()) data.append("list_name", form.elements.list_name.value.trim());
  show("Uploading…");
  let upload = await attempt(() => api("POST", "/contacts/uploads", data));
  while (upload && !["completed", "failed"].includes(upload.status)) {
    show(`Importing… ${upload.imported || 0} rows so far`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    upload = await attempt(() => api("GET", `/contacts/uploads/${upload.id}`));
  }
  if (!upload) return;
  const assigned = Object.entries(upload.assigned || {}).map(([staff, n]) => `staff ${staff}: ${n}`).join(", ");
  $("#upload-result").replaceChildren(el("p", {},
    `${upload.filename}: ${upload.total_rows} rows, ${upload.imported} imported, `,
    `${upload.duplicates_in_file} duplicates in file, ${upload.already_known} already known, ${upload.invalid} invalid. `,
    assigned && `Assigned: ${assigned}. `,
    upload.invalid ? button("Download rejected rows", () =>
      attempt(() => download(`/contacts/uploads/${upload.id}/errors`, `upload-${upload.id}-errors.csv`))) : null));
  form.reset();
  await loadContacts();
  show(upload.status === "failed" ? `The import failed: ${upload.failure_reason || "see the upload"}` : "Import finished.",
       upload.status === "failed");
}

// -- customers -------------------------------------------------------------------------------
async function loadCustomers() {
  const filter = formValues($("#customers-filter"));
  const page = await attempt(() => api("GET", `/customers${query({ ...filter, page: state.pages.customers || 1 })}`));
  if (!page) return;
  $("#customers-list").replaceChildren(table([
    ["Name", (c) => button(c.name || "(no name)", () => showCustomer(c.id))],
    ["Phone", (c) => c.phone],
    ["Category", (c) => c.category],
    ["Visits", (c) => c.total_visits, "num"],
    ["Purchases", (c) => c.total_purchases, "num"],
    ["First visit", (c) => c.first_visit_date || ""],
    ["Last visit", (c) => c.last_visit_date || ""],
    ["Generic", (c) => (c.prefers_generic ? "yes" : "")],
  ], page.items), pager("customers", page, loadCustomers));
}

async function showCustomer(id) {
  const [profile, purchases] = await Promise.all([
    attempt(() => api("GET", `/customers/${id}`)),
    attempt(() => api("GET", `/customers/${id}/purchases`)),
  ]);
  if (!profile) return;
  const fields = ["name", "phone", "email", "age", "gender", "address", "chronic_conditions", "allergies",
    "primary_doctor", "category", "prefers_generic", "generic_education_given", "special_notes",
    "first_visit_date", "last_visit_date", "total_visits", "total_purchases"];
  const box = $("#customer-profile");
  box.replaceChildren(
    el("h3", {}, profile.name || profile.phone, " ", button("Close", () => { box.hidden = true; })),
    el("dl", {}, fields.map((f) => [el("dt", {}, f.replaceAll("_", " ")),
      el("dd", {}, Array.isArray(profile[f]) ? profile[f].join(", ") : String(profile[f] ?? ""))])),
    el("h4", {}, "Purchases"),
    table([
      ["Date", (p) => p.purchase_date], ["Medicine", (p) => p.medicine_name],
      ["Generic", (p) => (p.is_generic ? "yes" : "")], ["Qty", (p) => p.quantity, "num"],
      ["Amount", (p) => p.amount, "num"], ["Days", (p) => p.duration_days ?? "", "num"],
      ["Refill due", (p) => p.refill_due_date || ""],
    ], (purchases && (purchases.items || purchases)) || []));
  box.hidden = false;
  box.scrollIntoView({ behavior: "smooth" });
}

// -- bills -----------------------------------------------------------------------------------
let billKey = newKey();

function newKey() {
  return window.crypto && crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
}

function addItemRow() {
  const row = el("tr", {},
    el("td", {}, el("input", { name: "medicine_name", required: true, maxlength: 200 })),
    el("td", {}, el("input", { name: "quantity", type: "number", min: 1, value: 1, required: true })),
    el("td", {}, el("input", { name: "amount", inputmode: "decimal", pattern: "\\d+(\\.\\d{1,2})?", required: true })),
    el("td", {}, el("input", { name: "is_generic", type: "checkbox" })),
    el("td", {}, el("input", { name: "duration_days", type: "number", min: 0 })),
    el("td", {}));
  row.lastChild.append(button("✕", () => row.remove()));
  $("#bill-items tbody").append(row);
}

async function createBill(event) {
  event.preventDefault();
  const form = event.target;
  const values = formValues(form);
  const items = [...form.querySelectorAll("#bill-items tbody tr")].map((row) => {
    const get = (name) => row.querySelector(`[name=${name}]`);
    const item = { medicine_name: get("medicine_name").value.trim(), quantity: Number(get("quantity").value),
      amount: get("amount").value.trim(), is_generic: get("is_generic").checked };
    if (get("duration_days").value) item.duration_days = Number(get("duration_days").value);
    return item;
  });
  const body = {
    customer_phone: values.customer_phone, customer_category: values.customer_category,
    was_contacted_before: values.was_contacted_before, visited_no_purchase: values.visited_no_purchase,
    items: values.visited_no_purchase ? [] : items,
  };
  if (values.customer_name) body.customer_name = values.customer_name;
  if (values.bill_date) body.bill_date = values.bill_date;
  // The same key until the bill is saved, so a retried click cannot create it twice.
  const bill = await attempt(() => api("POST", "/bills", body, { idempotencyKey: billKey }));
  if (!bill) return;
  billKey = newKey();
  form.reset();
  $("#bill-items tbody").replaceChildren();
  addItemRow();
  await loadBills();
  // After the reload, which clears the message line before it fetches.
  show(`Bill ${bill.bill_number} saved: total ${bill.total_amount}.`);
}

function toggleItems() {
  const noPurchase = $("#bill-form").elements.visited_no_purchase.checked;
  $("#bill-items").hidden = noPurchase;
  $("#add-item").hidden = noPurchase;
  for (const input of $("#bill-items").querySelectorAll("input")) input.disabled = noPurchase;
}

async function loadBills() {
  const page = await attempt(() => api("GET", `/bills${query({ per_page: 20, page: state.pages.bills || 1 })}`));
  if (!page) return;
  $("#bills-list").replaceChildren(table([
    ["Number", (b) => b.bill_number], ["Date", (b) => b.bill_date], ["Phone", (b) => b.customer_phone],
    ["Name", (b) => b.customer_name || ""], ["Category", (b) => b.customer_category],
    ["Items", (b) => b.items.map((i) => `${i.medicine_name} ×${i.quantity}`).join(", ") ||
      (b.visited_no_purchase ? "visit, no purchase" : "")],
    ["Total", (b) => b.total_amount, "num"],
  ], page.items), pager("bills", page, loadBills));
}

// -- refill reminders ------------------------------------------------------------------------
async function loadRefills() {
  const filter = formValues($("#refills-filter"));
  const page = await attempt(() => api("GET", `/reminders/refills${query({ ...filter, page: state.pages.refills || 1 })}`));
  if (!page) return;
  $("#refills-list").replaceChildren(table([
    ["Due", (r) => r.reminder_date],
    ["In days", (r) => r.days_until_due, "num"],
    ["Customer", (r) => `${r.customer_name || ""} ${r.customer_phone || ""}`],
    ["Medicine", (r) => r.medicine_name],
    ["WhatsApp sent", (r) => when(r.whatsapp_sent_at)],
    ["Call made", (r) => when(r.call_made_at)],
    ["Response", (r) => r.customer_response || ""],
    ["Status", (r) => status(r.status)],
    ["", (r) => r.status === "purchased" ? "" : [
      button("WhatsApp", () => refillAction(r, "whatsapp")),
      button("Call", () => refillAction(r, "call")),
      button("Response", () => refillAction(r, "response")),
      button("Purchased", () => refillAction(r, "purchased")),
    ]],
  ], page.items), page.total !== undefined ? pager("refills", page, loadRefills) : null);
}

async function refillAction(reminder, action) {
  let body = {};
  if (action === "call") {
    const notes = prompt("Call notes (optional):", "");
    if (notes === null) return;
    body = { successful: confirm("Did the customer answer?") };
    if (notes.trim()) body.notes = notes.trim();
  } else if (action === "response") {
    const response = prompt("What did the customer say?", "");
    if (!response || !response.trim()) return;
    body = { customer_response: response.trim() };
  }
  const result = await attempt(() => api("POST", `/reminders/refills/${reminder.id}/${action}`, body));
  if (!result) return;
  if (action === "whatsapp" && result.whatsapp_url) window.open(result.whatsapp_url, "_blank", "noopener");
  await loadRefills();
  show("Saved.");
}

// -- reports ---------------------------------------------------------------------------------
async function loadReports() {
  const { window: span } = formValues($("#reports-filter"));
  const [conversion, staff] = await Promise.all([
    attempt(() => api("GET", `/reports/conversion${query({ window: span })}`)),
    attempt(() => api("GET", `/reports/staff${query({ window: span })}`)),
  ]);
  if (conversion) {
    const card = (label, value) => el("div", {}, label, el("b", {}, String(value ?? "")));
    $("#conversion-report").replaceChildren(
      card("Contacts", conversion.total_contacts), card("Contacted", conversion.contacted),
      card("Converted", conversion.converted), card("Conversion rate", `${conversion.conversion_rate} %`),
      card("Conversion value", conversion.total_conversion_value),
      card("Average value", conversion.average_conversion_value));
  }
  if (staff) {
    $("#staff-report").replaceChildren(table([
      ["Staff", (s) => s.name || s.staff_id], ["Assigned", (s) => s.assigned, "num"],
      ["Contacted", (s) => s.contacted, "num"], ["Converted", (s) => s.converted, "num"],
      ["Rate", (s) => `${s.conversion_rate} %`, "num"], ["Value", (s) => s.conversion_value, "num"],
      ["Interactions", (s) => s.interactions, "num"],
    ], staff.items || staff));
  }
}

// -- staff (admin) ---------------------------------------------------------------------------
async function loadStaff() {
  const page = await attempt(() => api("GET", `/staff${query({ page: state.pages.staff || 1 })}`));
  if (!page) return;
  const me = session().user;
  $("#staff-list").replaceChildren(table([
    ["Username", (s) => s.username], ["Name", (s) => s.name || ""], ["Role", (s) => s.role],
    ["Active", (s) => (s.active ? "yes" : "no")], ["Since", (s) => when(s.created_at)],
    ["", (s) => [
      button(s.active ? "Disable" : "Enable", () => changeStaff(s, { active: !s.active })),
      button(s.role === "admin" ? "Make staff" : "Make admin",
        () => changeStaff(s, { role: s.role === "admin" ? "staff" : "admin" })),
      button("Rename", () => { const name = prompt("New name:", s.name || ""); if (name && name.trim()) changeStaff(s, { name: name.trim() }); }),
      button("New password", () => { const password = prompt("New password (at least 8 characters):", ""); if (password) changeStaff(s, { password }); }),
      s.id === me.id ? " (you)" : null,
    ]],
  ], page.items), pager("staff", page, loadStaff));
}

async function changeStaff(member, changes) {
  if (await attempt(() => api("PATCH", `/staff/${member.id}`, changes))) { await loadStaff(); show(`Saved ${member.username}.`); }
}

async function addStaff(event) {
  event.preventDefault();
  const created = await attempt(() => api("POST", "/staff", formValues(event.target)));
  if (created) { event.target.reset(); await loadStaff(); show(`Added ${created.username}.`); }
}

// -- wiring ----------------------------------------------------------------------------------
const loaders = {
  contacts: loadContacts, customers: loadCustomers, bills: loadBills, refills: loadRefills,
  reports: loadReports, staff: loadStaff,
};

function onFilter(formId, name, load) {
  $(formId).addEventListener("submit", (event) => { event.preventDefault(); state.pages[name] = 1; load(); });
}

document.addEventListener("DOMContentLoaded", () => {
  $("#login-form").addEventListener("submit", signIn);
  $("#logout").addEventListener("click", () => signOut());
  for (const tabButton of document.querySelectorAll("#tabs button")) {
    tabButton.addEventListener("click", () => openTab(tabButton.dataset.tab));
  }
  onFilter("#contacts-filter", "contacts", loadContacts);
  onFilter("#customers-filter", "customers", loadCustomers);
  onFilter("#refills-filter", "refills", loadRefills);
  onFilter("#reports-filter", "reports", loadReports);
  $("#upload-form").addEventListener("submit", uploadContacts);
  $("#interaction-dialog").addEventListener("close", saveInteraction);
  $("#bill-form").addEventListener("submit", createBill);
  $("#bill-form").elements.visited_no_purchase.addEventListener("change", toggleItems);
  $("#add-item").addEventListener("click", addItemRow);
  $("#staff-form").addEventListener("submit", addStaff);
  addItemRow();
  render();
});
