import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, currentSession, loadConfig, onSession, signIn, signOut, signUp, type Session } from "./api";
import { Account, Cart, Downloads, Gallery, Home } from "./customer";
import { Earnings, StudioEvent, StudioEvents } from "./studio";
import { ErrorText, go, useCart, useExternal, usePath } from "./ui";

function useSession(): Session | null {
  return useExternal(currentSession, (changed) => onSession(changed));
}

function SignIn({ next }: { next: string }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    setBusy(true);
    setError(null);
    try {
      await signIn(String(form.get("email")), String(form.get("password")));
      go(next);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="narrow">
      <h1>Sign in</h1>
      <form onSubmit={submit}>
        <label>
          Email
          <input name="email" type="email" autocomplete="username" required />
        </label>
        <label>
          Password
          <input name="password" type="password" autocomplete="current-password" required />
        </label>
        <ErrorText error={error} />
        <button type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
      <p>
        New here? <a href={"#/signup?next=" + encodeURIComponent(next)}>Create an account</a>
      </p>
    </section>
  );
}

function SignUp({ next }: { next: string }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const role = form.get("role") === "photographer" ? "photographer" : "customer";
    setBusy(true);
    setError(null);
    try {
      await signUp(String(form.get("email")), String(form.get("password")), String(form.get("name")), role);
      go(role === "photographer" && next === "/" ? "/studio" : next);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="narrow">
      <h1>Create an account</h1>
      <form onSubmit={submit}>
        <label>
          Name
          <input name="name" autocomplete="name" required maxLength={100} />
        </label>
        <label>
          Email
          <input name="email" type="email" autocomplete="username" required />
        </label>
        <label>
          Password (at least 8 characters)
          <input name="password" type="password" autocomplete="new-password" minLength={8} maxLength={128} required />
        </label>
        <fieldset>
          <legend>I am</legend>
          <label class="inline">
            <input type="radio" name="role" value="customer" checked /> looking for my photos
          </label>
          <label class="inline">
            <input type="radio" name="role" value="photographer" /> a photographer
          </label>
        </fieldset>
        <ErrorText error={error} />
        <button type="submit" disabled={busy}>
          {busy ? "Creating…" : "Create account"}
        </button>
      </form>
      <p>
        Have an account? <a href={"#/signin?next=" + encodeURIComponent(next)}>Sign in</a>
      </p>
    </section>
  );
}

function Nav({ session }: { session: Session | null }) {
  const [cart] = useCart();
  const photographer = session && session.user.role !== "customer";
  return (
    <header class="top">
      <a class="brand" href="#/">
        photostack
      </a>
      <nav aria-label="Main">
        {session ? (
          <>
            {photographer && <a href="#/studio">Studio</a>}
            {photographer && <a href="#/earnings">Earnings</a>}
            <a href="#/cart">Cart ({cart.length})</a>
            <a href="#/downloads">Downloads</a>
            <a href="#/account">Account</a>
            <button
              type="button"
              class="link"
              onClick={async () => {
                await signOut();
                go("/signin");
              }}
            >
              Sign out
            </button>
          </>
        ) : (
          <>
            <a href="#/signin">Sign in</a>
            <a href="#/signup">Sign up</a>
          </>
        )}
      </nav>
    </header>
  );
}

function Routes({ session, full }: { session: Session | null; full: string }) {
  const [path, query] = full.split("?");
  const params = new URLSearchParams(query ?? "");
  const next = params.get("next") || "/";
  if (path === "/signin") return <SignIn next={next} />;
  if (path === "/signup") return <SignUp next={next} />;
  if (!session) {
    // Every API needs a signed-in person; an event link comes back here after sign-in.
    return <SignIn next={full === "/" ? "/" : full} />;
  }
  const parts = path.split("/").filter(Boolean);
  switch (parts[0]) {
    case undefined:
      return <Home session={session} />;
    case "events":
      return <Gallery eventId={parts[1]} session={session} />;
    case "cart":
      return <Cart />;
    case "downloads":
      return <Downloads />;
    case "account":
      return <Account session={session} />;
    case "studio":
      return parts[1] ? <StudioEvent eventId={parts[1]} /> : <StudioEvents />;
    case "earnings":
      return <Earnings />;
    default:
      return (
        <section>
          <h1>Not found</h1>
          <p>
            There is no page here. <a href="#/">Go to the start</a>.
          </p>
        </section>
      );
  }
}

function App() {
  const session = useSession();
  const [ready, setReady] = useState<unknown>(null);
  useEffect(() => {
    loadConfig().then(
      () => setReady(true),
      (err) => setReady(err instanceof ApiError ? err : new ApiError(0, "no_config", "The app could not load its configuration")),
    );
  }, []);
  const path = usePath();
  const shownPath = useRef<string | null>(null);
  useEffect(() => {
    // Move focus to the new page's heading, so keyboard and screen-reader users follow along.
    // When only the app's start finished (the same page, now loaded), focus moves only if the
    // person has not put it somewhere yet: someone who tabbed into the navigation while the
    // page said "Loading…" keeps their place (Enter on "Cart" went nowhere when it was taken).
    const pageChanged = shownPath.current !== path;
    shownPath.current = path;
    const untouched = !document.activeElement || document.activeElement === document.body;
    const h = document.querySelector<HTMLElement>("main h1");
    if (h && (pageChanged || untouched)) {
      h.tabIndex = -1;
      h.focus({ preventScroll: true });
    }
  }, [path, ready]);
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById("main")?.focus())}>
        Skip to content
      </a>
      <Nav session={session} />
      <main id="main" tabIndex={-1}>
        {ready === true ? <Routes session={session} full={path} /> : ready ? <ErrorText error={ready} /> : <p>Loading…</p>}
      </main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
