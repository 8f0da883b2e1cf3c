// The page's whole client: typed from protos/ (src/gen, by protoc-gen-es), over gRPC-Web through the gateway.
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { AuthService } from "./gen/cigar/auth/v1/auth_pb";
import { type Cigar, CollectionService } from "./gen/cigar/collection/v1/collection_pb";

// The gateway's address: ?gateway=... on this page's URL, else make run's default.
const gateway = new URLSearchParams(location.search).get("gateway") ?? "http://127.0.0.1:8000";

let accessToken = "";
// Every call after login carries the bearer token, as the REST API takes it.
const bearer: Interceptor = (next) => async (request) => {
  if (accessToken) request.header.set("authorization", `Bearer ${accessToken}`);
  return next(request);
};
const transport = createGrpcWebTransport({ baseUrl: gateway, interceptors: [bearer] });
const auth = createClient(AuthService, transport);
const collection = createClient(CollectionService, transport);

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`#${id} is missing from the page`);
  return found as T;
}

const value = (id: string): string => element<HTMLInputElement>(id).value;

function say(text: string, failed = false): void {
  const status = element("status");
  status.textContent = text;
  status.dataset.state = failed ? "error" : "ok";
}

// A refused call: its gRPC code and the service's message (e.g. "rating: must be 1 to 5").
function explain(error: unknown): string {
  const err = ConnectError.from(error);
  return `${Code[err.code]}: ${err.rawMessage}`;
}

function show(cigars: Cigar[]): void {
  const list = element("cigars");
  list.replaceChildren(
    ...cigars.map((cigar) => {
      const item = document.createElement("li");
      item.dataset.id = String(cigar.id);
      item.textContent = `${cigar.name} (${cigar.brand}), rated ${cigar.rating}`;
      return item;
    }),
  );
}

async function run(action: () => Promise<string>): Promise<void> {
  say("…");
  try {
    say(await action());
  } catch (error) {
    say(explain(error), true);
  }
}

async function refresh(): Promise<string> {
  const { cigars } = await collection.listMyCigars({});
  show(cigars);
  return `${cigars.length} cigar(s) in your collection`;
}

element("register").addEventListener("click", () =>
  run(async () => {
    const user = await auth.createUser({
      username: value("username"),
      email: value("email"),
      password: value("password"),
    });
    return `registered ${user.username} (id ${user.id})`;
  }),
);

element("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  void run(async () => {
    const reply = await auth.token({ username: value("username"), password: value("password") });
    accessToken = reply.accessToken;
    const me = await auth.getMe({});
    element("who").textContent = me.username;
    await refresh();
    return `logged in as ${me.username}`;
  });
});

element("cigar-form").addEventListener("submit", (event) => {
  event.preventDefault();
  void run(async () => {
    const cigar = await collection.createCigar({
      name: value("name"),
      brand: value("brand"),
      rating: Number(value("rating")),
    });
    await refresh();
    return `added ${cigar.name} (id ${cigar.id})`;
  });
});

element("refresh").addEventListener("click", () => run(refresh));
element("gateway").textContent = gateway;
say("ready");
