// The home page: what runs and where its doors are, from /status. Text only goes in through
// textContent: nothing the server reports is read as HTML.
import { Unauthorized, getJSON, setApiKey } from "/static/api.js";

const $ = (id) => document.getElementById(id);

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function row(...cells) {
  const tr = el("tr");
  for (const cell of cells) {
    const td = el("td");
    td.append(cell instanceof Node ? cell : el("span", String(cell ?? "")));
    tr.append(td);
  }
  return tr;
}

function show(status) {
  $("version").textContent = status.version;
  $("state").textContent = `Running; ${status.sessions} open session(s).`;

  const brain = status.brain;
  $("brain").textContent = brain.brain;
  $("brain-limits").textContent = brain.limits;
  $("brain-change").textContent = brain.change;
  $("brain-command").textContent = brain.command;
  $("brain-command").hidden = !brain.command;

  const engines = $("engines");
  engines.replaceChildren();
  if (status.engines) {
    for (const [kind, engine] of Object.entries(status.engines)) {
      engines.append(row(kind.toUpperCase(), el("code", engine?.module ?? "")));
    }
  } else {
    engines.append(row("voice", "off: the server runs text-only"));
  }

  const doors = $("doors");
  doors.replaceChildren();
  const endpoints = $("endpoints");
  endpoints.replaceChildren();
  for (const door of status.doors) {
    doors.append(row(readmeLink(door.name, door.docs), el("code", door.url), door.auth));
    for (const endpoint of door.endpoints ?? []) {
      endpoints.append(el("li", `${endpoint.methods.join(", ")} ${endpoint.path}`));
    }
  }

  const personas = status.personas;
  $("personas").textContent = personas.names.join(", ");
  $("persona-default").textContent = personas.default;

  for (const panel of ["brain", "engines", "doors", "personas"]) {
    $(`${panel}-panel`).hidden = false;
  }
}

async function load() {
  try {
    show(await getJSON("/status"));
    $("key-form").hidden = true;
  } catch (error) {
    if (error instanceof Unauthorized) {
      $("state").textContent = "Locked: enter the API key to see what runs.";
      $("key-form").hidden = false;
    } else {
      $("state").textContent = `Cannot read /status: ${error.message}`;
    }
  }
}

// The README, served by this server: one link per "## " section, shown below on click.
const readme = {};

function showSection(title) {
  if (!readme[title]) return;
  $("readme-text").textContent = readme[title].join("\n");
  $("readme-text").hidden = false;
}

function readmeLink(text, section) {
  const link = el("a", text);
  link.href = `#readme:${encodeURIComponent(section)}`;
  link.addEventListener("click", () => showSection(section));
  return link;
}

async function loadReadme() {
  const response = await fetch("/readme.md");
  if (!response.ok) return;
  let current = null;
  for (const line of (await response.text()).split("\n")) {
    if (line.startsWith("## ")) {
      current = line.slice(3).trim();
      readme[current] = [];
    }
    if (current) readme[current].push(line);
  }
  $("readme-sections").replaceChildren(
    ...Object.keys(readme).map((title) => readmeLink(title, title)),
  );
  showSection(decodeURIComponent(location.hash.replace(/^#readme:/, "")));
}

$("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  setApiKey($("key").value.trim());
  load();
});

load();
loadReadme();
