// What a customer sees: events, the gallery with "Find me", the cart and wallet, downloads, account.

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { ApiError, loadConfig, newKey, request, type Session } from "./api";
import type { FaceIndexing, FaceMatch, Order, Payment, Photo, PhotoEvent, Purchase, Wallet } from "./types";
import { CURRENCIES, ErrorText, Notice, fileToDataUrl, go, money, parseMinor, previewUrl, thumbUrl, useCart, useLoad, type CartItem } from "./ui";

const PAGE_SIZE = 24;

export function Home({ session }: { session: Session }) {
  const { value, error } = useLoad(() => request<{ events: PhotoEvent[] }>("photos", "GET", "/events", { query: { limit: 50 } }), []);
  const [link, setLink] = useState("");
  const open = (e: Event) => {
    e.preventDefault();
    const id = /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/i.exec(link)?.[1];
    if (id) go(`/events/${id.toLowerCase()}`);
  };
  return (
    <section>
      <h1>Hello, {session.user.display_name}</h1>
      {session.user.role !== "customer" && (
        <p>
          Manage your events and uploads in the <a href="#/studio">Studio</a>.
        </p>
      )}
      <form class="row" onSubmit={open}>
        <label class="grow">
          Event link or id
          <input value={link} onInput={(e) => setLink(e.currentTarget.value)} placeholder="https://…#/events/…" />
        </label>
        <button type="submit">Open event</button>
      </form>
      <h2>Events</h2>
      <ErrorText error={error} />
      {value && value.events.length === 0 && <p>No events to show yet.</p>}
      <ul class="cards">
        {value?.events.map((ev) => (
          <li key={ev.id}>
            <a href={`#/events/${ev.id}`}>{ev.name}</a>
            <span class="muted">
              {" "}
              {ev.date}
              {ev.place ? ` · ${ev.place}` : ""}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}

// ---- gallery -------------------------------------------------------------------------------
function useEventPhotos(eventId: string) {
  const [photos, setPhotos] = useState<Photo[]>([]);
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const done = cursor === null;
  const loadMore = async () => {
    if (loading || done) return;
    setLoading(true);
    try {
      const page = await request<{ photos: Photo[]; next_cursor: string | null }>("photos", "GET", `/events/${eventId}/photos`, {
        query: { limit: PAGE_SIZE, cursor: cursor ?? undefined },
      });
      setPhotos((p) => [...p, ...page.photos.filter((x) => x.status === "ready")]);
      setCursor(page.next_cursor);
    } catch (err) {
      setError(err);
    } finally {
      setLoading(false);
    }
  };
  return { photos, loadMore, loading, done, error };
}

export function Gallery({ eventId }: { eventId: string; session: Session }) {
  const event = useLoad(() => request<PhotoEvent>("photos", "GET", `/events/${eventId}`), [eventId]);
  const { photos, loadMore, loading, done, error } = useEventPhotos(eventId);
  const [open, setOpen] = useState<number | null>(null);
  const [matches, setMatches] = useState<FaceMatch[] | null>(null);
  const [matchPhotos, setMatchPhotos] = useState<Photo[]>([]);
  const sentinel = useRef<HTMLDivElement>(null);

  // Infinite scroll: the next page loads when the end of the grid comes into view.
  useEffect(() => {
    const el = sentinel.current;
    if (!el || done || error) return;
    const observer = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && loadMore(), { rootMargin: "400px" });
    observer.observe(el);
    return () => observer.disconnect();
  });

  const shown = matches ? matchPhotos : photos;
  return (
    <section>
      <ErrorText error={event.error} />
      <h1>{event.value?.name ?? "Event"}</h1>
      {event.value && (
        <p class="muted">
          {event.value.date}
          {event.value.place ? ` · ${event.value.place}` : ""}
        </p>
      )}
      <FindMe
        eventId={eventId}
        onMatches={async (found) => {
          // The matches' own records (price, preview) for the grid and the lightbox, then both at once.
          const records = found ? await Promise.all(found.map((m) => request<Photo>("photos", "GET", `/photos/${m.photo_id}`))) : [];
          setOpen(null);
          setMatchPhotos(records);
          setMatches(found);
        }}
      />
      {matches && (
        <p role="status">
          {matches.length === 0 ? "No photos of you were found in this event." : `${matches.length} photo${matches.length === 1 ? "" : "s"} of you, best match first.`}{" "}
          <button type="button" class="link" onClick={() => setMatches(null)}>
            Show all photos
          </button>
        </p>
      )}
      <ul class="grid" aria-label={matches ? "Your matches" : "Photos"}>
        {shown.map((photo, i) => (
          <li key={photo.id}>
            <Tile photo={photo} index={i} score={matches?.[i]?.score} onOpen={() => setOpen(i)} />
          </li>
        ))}
      </ul>
      <ErrorText error={error} />
      {!matches && !done && (
        <div ref={sentinel} class="more">
          <button type="button" onClick={loadMore} disabled={loading}>
            {loading ? "Loading…" : "Load more photos"}
          </button>
        </div>
      )}
      {!matches && done && photos.length === 0 && <p>No photos in this event yet.</p>}
      {open !== null && shown[open] && (
        <Lightbox photos={shown} index={open} onIndex={setOpen} onClose={() => setOpen(null)} />
      )}
    </section>
  );
}

function priceText(photo: Photo): string {
  return photo.price ? money(photo.price.minor, photo.price.currency) : "not for sale";
}

function Tile({ photo, index, score, onOpen }: { photo: Photo; index: number; score?: number; onOpen: () => void }) {
  const [cart] = useCart();
  const inCart = cart.some((c) => c.photoId === photo.id);
  const url = thumbUrl(photo);
  return (
    <button type="button" class="tile" onClick={onOpen} data-photo-id={photo.id}>
      {url ? <img src={url} alt={`Photo ${index + 1}`} loading="lazy" width={320} height={213} /> : <span>Photo {index + 1}</span>}
      <span class="caption">
        {priceText(photo)}
        {score !== undefined && ` · match ${Math.round(score * 100)}%`}
        {inCart && " · in cart"}
      </span>
    </button>
  );
}

function Lightbox({ photos, index, onIndex, onClose }: { photos: Photo[]; index: number; onIndex: (i: number) => void; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [cart, setCart] = useCart();
  const photo = photos[index];
  const inCart = cart.some((c) => c.photoId === photo.id);
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  const step = (d: number) => onIndex((index + d + photos.length) % photos.length);
  const toggle = () => {
    if (!photo.price) return;
    if (inCart) setCart(cart.filter((c) => c.photoId !== photo.id));
    else setCart([...cart, { photoId: photo.id, eventId: photo.event_id, price: photo.price } satisfies CartItem]);
  };
  const url = previewUrl(photo);
  return (
    <dialog
      ref={dialog}
      class="lightbox"
      aria-label={`Photo ${index + 1} of ${photos.length}`}
      onClose={onClose}
      onKeyDown={(e) => {
        if (e.key === "ArrowRight") step(1);
        if (e.key === "ArrowLeft") step(-1);
      }}
    >
      {url && <img src={url} alt={`Preview of photo ${index + 1} (watermarked)`} />}
      <div class="row">
        <button type="button" onClick={() => step(-1)} aria-label="Previous photo">
          ←
        </button>
        <span class="grow">
          Photo {index + 1} of {photos.length} · {priceText(photo)}
        </span>
        {photo.price && (
          <button type="button" onClick={toggle}>
            {inCart ? "Remove from cart" : "Add to cart"}
          </button>
        )}
        <button type="button" onClick={() => step(1)} aria-label="Next photo">
          →
        </button>
        <button type="button" onClick={() => dialog.current?.close()}>
          Close
        </button>
      </div>
    </dialog>
  );
}

const FACE_MESSAGES: Record<string, string> = {
  no_face: "We could not find a face in that picture. Try a clear, well-lit selfie facing the camera.",
  several_faces: "That picture shows more than one face. Use a selfie with only you in it.",
  not_an_image: "That file is not a picture we can read. Use a JPEG, PNG or WebP photo.",
  invalid_image: "That file is not a picture we can read. Use a JPEG, PNG or WebP photo.",
  image_too_large: "That picture is too large (5 MB at most). Try a smaller one.",
};

function FindMe({ eventId, onMatches }: { eventId: string; onMatches: (m: FaceMatch[] | null) => Promise<void> }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const pick = async (e: Event) => {
    const input = e.currentTarget as HTMLInputElement;
    const file = input.files?.[0];
    if (!file) return;
    setBusy(true);
    setError(null);
    try {
      const image = await fileToDataUrl(file);
      const page = await request<{ matches: FaceMatch[] }>("photos", "POST", `/events/${eventId}/face-search`, { body: { image_base64: image } });
      await onMatches([...page.matches].sort((a, b) => b.score - a.score));
    } catch (err) {
      setError(err instanceof ApiError && FACE_MESSAGES[err.code] ? new ApiError(err.status, err.code, FACE_MESSAGES[err.code]) : err);
      await onMatches(null);
    } finally {
      setBusy(false);
      input.value = "";
    }
  };
  return (
    <div class="findme">
      <label class="button">
        {busy ? "Looking for you…" : "Find me: choose or take a selfie"}
        {/* capture="user" opens the front camera on phones; desktops get a file picker */}
        <input type="file" accept="image/jpeg,image/png,image/webp" capture="user" onChange={pick} disabled={busy} class="visually-hidden" />
      </label>
      <span class="muted"> Your selfie is only used for this search and is not stored.</span>
      <ErrorText error={error} />
    </div>
  );
}

// ---- cart and wallet ----------------------------------------------------------------------
function CartLine({ item, onRemove }: { item: CartItem; onRemove: () => void }) {
  const { value } = useLoad(() => request<Photo>("photos", "GET", `/photos/${item.photoId}`), [item.photoId]);
  const url = value && thumbUrl(value);
  return (
    <li class="row">
      {url ? <img src={url} alt="" width={96} height={64} /> : <span class="thumb-placeholder" />}
      <a class="grow" href={`#/events/${item.eventId}`}>
        Photo {item.photoId.slice(0, 8)}
      </a>
      <span>{money(item.price.minor, item.price.currency)}</span>
      <button type="button" onClick={onRemove} aria-label={`Remove photo ${item.photoId.slice(0, 8)} from the cart`}>
        Remove
      </button>
    </li>
  );
}

export function WalletPanel({ onChange }: { onChange?: () => void }) {
  const wallets = useLoad(() => request<{ wallets: Wallet[] }>("transactions", "GET", "/wallet"), []);
  const [amount, setAmount] = useState("20");
  const [currency, setCurrency] = useState<string>("EUR");
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState("");
  const [busy, setBusy] = useState(false);
  const topUp = async (e: Event) => {
    e.preventDefault();
    const minor = parseMinor(amount);
    setError(null);
    setNotice("");
    if (!minor) {
      setError(new ApiError(0, "bad_amount", "Enter an amount such as 20 or 12.50"));
      return;
    }
    setBusy(true);
    try {
      const payment = await request<Payment>("transactions", "POST", "/wallet/topups", {
        body: { amount_minor: minor, currency },
        headers: { "Idempotency-Key": newKey("web-topup") },
      });
      if ((await loadConfig()).simulatedPayments) {
        // The local stack's simulated provider confirms on the server; the browser never holds its secret.
        await request("transactions", "POST", `/wallet/topups/${payment.payment_id}/simulate`, { body: {} });
        setNotice(`Added ${money(minor, currency)} to your wallet.`);
      } else {
        setNotice("Payment started: your wallet is credited when the payment provider confirms it.");
      }
      wallets.reload();
      onChange?.();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="wallet-h">
      <h2 id="wallet-h">Wallet</h2>
      <ErrorText error={wallets.error} />
      <p data-testid="balance">
        {wallets.value && wallets.value.wallets.length === 0 && "Your wallet is empty."}
        {wallets.value?.wallets.map((w) => money(w.balance_minor, w.currency)).join(" · ")}
      </p>
      <form class="row" onSubmit={topUp}>
        <label>
          Amount
          <input value={amount} onInput={(e) => setAmount(e.currentTarget.value)} inputMode="decimal" size={8} />
        </label>
        <label>
          Currency
          <select value={currency} onChange={(e) => setCurrency(e.currentTarget.value)}>
            {CURRENCIES.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={busy}>
          {busy ? "Topping up…" : "Top up"}
        </button>
      </form>
      <ErrorText error={error} />
      {notice && <Notice>{notice}</Notice>}
    </section>
  );
}

function fundsError(err: ApiError): ApiError {
  const { currency, needed_minor, available_minor } = err.details as { currency?: string; needed_minor?: number; available_minor?: number };
  if (!currency || needed_minor === undefined || available_minor === undefined) return err;
  return new ApiError(
    err.status,
    err.code,
    `Your wallet has ${money(available_minor, currency)} but these photos cost ${money(needed_minor, currency)}. Top up your wallet below, then buy again`,
  );
}

export function Cart() {
  const [cart, setCart] = useCart();
  const [error, setError] = useState<unknown>(null);
  const [order, setOrder] = useState<Order | null>(null);
  const [busy, setBusy] = useState(false);
  const [walletTick, setWalletTick] = useState(0);
  const signature = cart
    .map((c) => c.photoId)
    .sort()
    .join(",");
  // One key per cart content: a retried click cannot buy twice; a changed cart is a new order.
  const key = useMemo(() => newKey("web-order"), [signature]);
  const totals = new Map<string, number>();
  cart.forEach((c) => totals.set(c.price.currency, (totals.get(c.price.currency) ?? 0) + c.price.minor));
  const buy = async () => {
    setBusy(true);
    setError(null);
    try {
      const placed = await request<Order>("transactions", "POST", "/orders", {
        body: { photo_ids: cart.map((c) => c.photoId) },
        headers: { "Idempotency-Key": key },
      });
      setOrder(placed);
      setCart([]);
      setWalletTick((t) => t + 1);
    } catch (err) {
      setError(err instanceof ApiError && err.code === "insufficient_funds" ? fundsError(err) : err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section>
      <h1>Cart</h1>
      {order && (
        <Notice>
          Bought {order.items.length} photo{order.items.length === 1 ? "" : "s"} for {money(order.total_minor, order.currency)}.{" "}
          <a href="#/downloads">Go to your downloads</a>.
        </Notice>
      )}
      {cart.length === 0 && !order && <p>Your cart is empty. Open an event and add photos from the preview.</p>}
      <ul class="lines">
        {cart.map((item) => (
          <CartLine key={item.photoId} item={item} onRemove={() => setCart(cart.filter((c) => c.photoId !== item.photoId))} />
        ))}
      </ul>
      {cart.length > 0 && (
        <div class="row">
          <strong class="grow">
            Total: {[...totals].map(([cur, minor]) => money(minor, cur)).join(" + ")}
          </strong>
          <button type="button" onClick={buy} disabled={busy}>
            {busy ? "Buying…" : `Buy ${cart.length} photo${cart.length === 1 ? "" : "s"}`}
          </button>
        </div>
      )}
      <ErrorText error={error} />
      <WalletPanel key={walletTick} />
    </section>
  );
}

// ---- downloads ------------------------------------------------------------------------------
const EXTENSIONS: Record<string, string> = { "image/jpeg": "jpg", "image/png": "png", "image/webp": "webp" };

async function saveOriginal(photoId: string): Promise<void> {
  const grant = await request<{ url: string }>("transactions", "GET", `/purchases/${photoId}/download`);
  let blob: Blob;
  try {
    const response = await fetch(grant.url);
    if (!response.ok) throw new ApiError(response.status, "storage_error", `Storage refused the download (${response.status})`);
    blob = await response.blob();
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError(0, "unreachable", "Could not reach storage. Check your connection and try again");
  }
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = `photostack-${photoId}.${EXTENSIONS[blob.type] ?? "jpg"}`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

function DownloadLine({ purchase }: { purchase: Purchase }) {
  const { value } = useLoad(() => request<Photo>("photos", "GET", `/photos/${purchase.photo_id}`), [purchase.photo_id]);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const url = value && thumbUrl(value);
  const label = `photo ${purchase.photo_id.slice(0, 8)}`;
  return (
    <li class="row" data-photo-id={purchase.photo_id}>
      {url ? <img src={url} alt="" width={96} height={64} /> : <span class="thumb-placeholder" />}
      <span class="grow">
        Photo {purchase.photo_id.slice(0, 8)} <span class="muted">bought {new Date(purchase.purchased_at).toLocaleDateString()}</span>
      </span>
      <button
        type="button"
        disabled={busy}
        aria-label={`Download original of ${label}`}
        onClick={async () => {
          setBusy(true);
          setError(null);
          try {
            await saveOriginal(purchase.photo_id);
          } catch (err) {
            setError(err);
          } finally {
            setBusy(false);
          }
        }}
      >
        {busy ? "Preparing…" : "Download original"}
      </button>
      <ErrorText error={error} />
    </li>
  );
}

export function Downloads() {
  const [items, setItems] = useState<Purchase[]>([]);
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const more = async () => {
    try {
      const page = await request<{ purchases: Purchase[]; next_cursor: string | null }>("transactions", "GET", "/purchases", {
        query: { limit: 50, cursor: cursor ?? undefined },
      });
      setItems((i) => [...i, ...page.purchases]);
      setCursor(page.next_cursor);
    } catch (err) {
      setError(err);
    }
  };
  useEffect(() => {
    more();
  }, []);
  return (
    <section>
      <h1>Your downloads</h1>
      <ErrorText error={error} />
      {cursor === null && items.length === 0 && <p>You have not bought any photos yet.</p>}
      <ul class="lines">
        {items.map((p) => (
          <DownloadLine key={p.photo_id} purchase={p} />
        ))}
      </ul>
      {cursor && (
        <button type="button" onClick={more}>
          Show more
        </button>
      )}
    </section>
  );
}

// ---- account -------------------------------------------------------------------------------
export function Account({ session }: { session: Session }) {
  const [state, setState] = useState<FaceIndexing | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const change = async (enabled: boolean, file?: File) => {
    setBusy(true);
    setError(null);
    try {
      const body: Record<string, unknown> = { enabled };
      if (file) body.image_base64 = await fileToDataUrl(file);
      setState(await request<FaceIndexing>("photos", "PUT", "/users/me/face-indexing", { body }));
    } catch (err) {
      setError(err instanceof ApiError && FACE_MESSAGES[err.code] ? new ApiError(err.status, err.code, FACE_MESSAGES[err.code]) : err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section>
      <h1>Account</h1>
      <dl>
        <dt>Name</dt>
        <dd>{session.user.display_name}</dd>
        <dt>Email</dt>
        <dd>{session.user.email}</dd>
        <dt>Role</dt>
        <dd>{session.user.role}</dd>
      </dl>
      <h2>Face recognition</h2>
      <p>
        Photographers' events are indexed so that you can find yourself from a selfie. You can opt out: give us one selfie, and
        photos with your face stop appearing in anyone's face search (only the selfie's face signature is kept, to recognise you).
      </p>
      <div class="row">
        <label class="button">
          {busy ? "Working…" : "Opt out with a selfie"}
          <input
            type="file"
            accept="image/jpeg,image/png,image/webp"
            capture="user"
            class="visually-hidden"
            disabled={busy}
            onChange={(e) => {
              const file = e.currentTarget.files?.[0];
              if (file) change(false, file);
              e.currentTarget.value = "";
            }}
          />
        </label>
        <button type="button" onClick={() => change(true)} disabled={busy}>
          Opt back in
        </button>
      </div>
      <ErrorText error={error} />
      {state && (
        <Notice>
          {state.enabled
            ? "Face recognition is on for you."
            : `You have opted out: ${state.faces_withheld} face${state.faces_withheld === 1 ? "" : "s"} withheld from search.`}
          {state.notice ? ` ${state.notice}` : ""}
        </Notice>
      )}
    </section>
  );
}
