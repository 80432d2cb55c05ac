// What a photographer sees: events, uploads with live processing status, prices, earnings.

import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, newKey, request } from "./api";
import type { Earnings as EarningsT, LedgerLine, Photo, PhotoEvent } from "./types";
import { Uploader, unfinished, type FileProgress } from "./upload";
import { CURRENCIES, ErrorText, Notice, go, money, parseMinor, thumbUrl, useLoad } from "./ui";

export function StudioEvents() {
  const events = useLoad(() => request<{ events: PhotoEvent[] }>("photos", "GET", "/events", { query: { mine: "true", limit: 100 } }), []);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const create = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    setBusy(true);
    setError(null);
    try {
      const event = await request<PhotoEvent>("photos", "POST", "/events", {
        body: {
          name: String(form.get("name")),
          date: String(form.get("date")),
          place: String(form.get("place") ?? ""),
          visibility: form.get("visibility") === "private" ? "private" : "public",
        },
        headers: { "Idempotency-Key": newKey("web-event") },
      });
      go(`/studio/${event.id}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section>
      <h1>Studio</h1>
      <h2>New event</h2>
      <form class="row wrap" onSubmit={create}>
        <label class="grow">
          Name
          <input name="name" required maxLength={200} />
        </label>
        <label>
          Date
          <input name="date" type="date" required value={new Date().toISOString().slice(0, 10)} />
        </label>
        <label>
          Place
          <input name="place" maxLength={200} />
        </label>
        <label>
          Visibility
          <select name="visibility">
            <option value="public">public</option>
            <option value="private">private (link only)</option>
          </select>
        </label>
        <button type="submit" disabled={busy}>
          {busy ? "Creating…" : "Create event"}
        </button>
      </form>
      <ErrorText error={error} />
      <h2>Your events</h2>
      <ErrorText error={events.error} />
      {events.value && events.value.events.length === 0 && <p>No events yet: create your first one above.</p>}
      <ul class="cards">
        {events.value?.events.map((ev) => (
          <li key={ev.id}>
            <a href={`#/studio/${ev.id}`}>{ev.name}</a>
            <span class="muted">
              {" "}
              {ev.date} · {ev.visibility}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}

// ---- one event: upload, status, prices ------------------------------------------------------
async function allPhotos(eventId: string): Promise<Photo[]> {
  const photos: Photo[] = [];
  let cursor: string | null = null;
  do {
    const page: { photos: Photo[]; next_cursor: string | null } = await request("photos", "GET", `/events/${eventId}/photos`, {
      query: { limit: 100, cursor },
    });
    photos.push(...page.photos);
    cursor = page.next_cursor;
  } while (cursor);
  return photos;
}

/** Files, from a drop that may hold folders (walked recursively) or from a file input. */
async function droppedFiles(items: DataTransferItemList): Promise<File[]> {
  const files: File[] = [];
  const walk = async (entry: FileSystemEntry): Promise<void> => {
    if (entry.isFile) {
      files.push(await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej)));
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
        if (batch.length === 0) break;
        for (const child of batch) await walk(child);
      }
    }
  };
  const list = Array.from(items);
  const entries = list.map((i) => i.webkitGetAsEntry()).filter((e): e is FileSystemEntry => e !== null);
  if (entries.length === 0) {
    // No file-system entries (a drop made by a script, some browsers): the plain files.
    list.forEach((i) => {
      const f = i.getAsFile();
      if (f) files.push(f);
    });
  }
  for (const entry of entries) await walk(entry);
  return files.filter((f) => !f.name.startsWith("."));
}

function percent(sent: number, total: number): number {
  return total ? Math.min(100, Math.round((sent / total) * 100)) : 0;
}

function UploadPanel({ eventId, onBusy }: { eventId: string; onBusy: (busy: boolean) => void }) {
  const [, setTick] = useState(0);
  const uploader = useRef<Uploader | null>(null);
  uploader.current ??= new Uploader(eventId, () => setTick((t) => t + 1));
  const up = uploader.current;
  const [over, setOver] = useState(false);
  const left = unfinished(eventId).length;
  const start = async (files: File[]) => {
    if (files.length === 0) return;
    onBusy(true);
    try {
      await up.add(files);
    } finally {
      onBusy(up.busy);
    }
  };
  return (
    <section aria-labelledby="upload-h">
      <h2 id="upload-h">Upload photos</h2>
      {left > 0 && !up.busy && (
        <Notice>
          {left} upload{left === 1 ? " was" : "s were"} interrupted in an earlier visit: drop the same files again to resume (finished
          files are skipped).
        </Notice>
      )}
      <div
        class={"dropzone" + (over ? " over" : "")}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={async (e) => {
          e.preventDefault();
          setOver(false);
          if (e.dataTransfer) start(await droppedFiles(e.dataTransfer.items));
        }}
      >
        <p>Drop photos or a folder here (JPEG, PNG, WebP), or</p>
        <div class="row center">
          <label class="button">
            Choose files
            <input type="file" multiple accept="image/jpeg,image/png,image/webp" class="visually-hidden" data-testid="files" onChange={(e) => start(Array.from(e.currentTarget.files ?? []))} />
          </label>
          <label class="button">
            Choose a folder
            <input
              type="file"
              multiple
              class="visually-hidden"
              {...{ webkitdirectory: "" }}
              onChange={(e) => start(Array.from(e.currentTarget.files ?? []))}
            />
          </label>
        </div>
      </div>
      {up.files.length > 0 && (
        <>
          <label class="progress">
            Overall: {percent(up.sentBytes, up.totalBytes)}% ({up.files.filter((f) => f.state === "uploaded" || f.state === "skipped").length} of{" "}
            {up.files.length} files sent)
            <progress max={100} value={percent(up.sentBytes, up.totalBytes)} />
          </label>
          <ul class="lines uploads">
            {up.files.map((f, i) => (
              <FileLine key={i} file={f} />
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

const STATE_TEXT: Record<FileProgress["state"], string> = {
  queued: "waiting",
  hashing: "reading",
  uploading: "sending",
  uploaded: "sent",
  skipped: "already sent",
  failed: "failed",
};

function FileLine({ file }: { file: FileProgress }) {
  return (
    <li class={"row wrap file-" + file.state} data-state={file.state} data-photo-id={file.photoId}>
      <span class="grow name">{file.name}</span>
      <progress max={100} value={percent(file.sent, file.size)} aria-label={`${file.name}: ${STATE_TEXT[file.state]}`} />
      <span class="state">{STATE_TEXT[file.state]}</span>
      {file.error && (
        <span class="error" role="alert">
          {file.error}
        </span>
      )}
    </li>
  );
}

function PriceForm({ selected, onDone }: { selected: string[]; onDone: () => void }) {
  const [amount, setAmount] = useState("4.50");
  const [currency, setCurrency] = useState("EUR");
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState("");
  const [busy, setBusy] = useState(false);
  const apply = async (e: Event) => {
    e.preventDefault();
    const minor = parseMinor(amount);
    setError(null);
    setNotice("");
    if (minor === null) {
      setError(new ApiError(0, "bad_amount", "Enter a price such as 4.50"));
      return;
    }
    setBusy(true);
    try {
      let done = 0;
      // A few at a time: each PATCH is one small request.
      const queue = [...selected];
      const worker = async () => {
        for (let id = queue.shift(); id; id = queue.shift()) {
          await request("photos", "PATCH", `/photos/${id}`, { body: { price_minor: minor, currency } });
          done++;
        }
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
      setNotice(`Priced ${done} photo${done === 1 ? "" : "s"} at ${money(minor, currency)}.`);
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="row wrap" onSubmit={apply}>
      <label>
        Price
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
      <button type="submit" disabled={busy || selected.length === 0}>
        {busy ? "Saving…" : `Set price for ${selected.length} selected`}
      </button>
      <ErrorText error={error} />
      {notice && <Notice>{notice}</Notice>}
    </form>
  );
}

export function StudioEvent({ eventId }: { eventId: string }) {
  const event = useLoad(() => request<PhotoEvent>("photos", "GET", `/events/${eventId}`), [eventId]);
  const [photos, setPhotos] = useState<Photo[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [tick, setTick] = useState(0);
  const refresh = () => setTick((t) => t + 1);
  const uploading = useRef(false);

  // Live processing status: poll while files are being sent or anything is pending.
  useEffect(() => {
    let live = true;
    let timer = 0;
    const poll = async () => {
      try {
        const list = await allPhotos(eventId);
        if (!live) return;
        setPhotos(list);
        setError(null);
        if (uploading.current || list.some((p) => p.status === "pending")) timer = window.setTimeout(poll, 2000);
      } catch (err) {
        if (live) setError(err);
      }
    };
    poll();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [eventId, tick]);

  const counts = { pending: 0, ready: 0, failed: 0 };
  photos.forEach((p) => counts[p.status]++);
  const ready = photos.filter((p) => p.status === "ready");
  const link = `${location.origin}${location.pathname}#/events/${eventId}`;
  const toggle = (id: string) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };
  return (
    <section>
      <ErrorText error={event.error} />
      <h1>{event.value?.name ?? "Event"}</h1>
      <p>
        Customer link: <a href={link}>{link}</a>
      </p>
      <UploadPanel
        eventId={eventId}
        onBusy={(busy) => {
          uploading.current = busy;
          refresh();
        }}
      />
      <h2>Photos</h2>
      <p role="status" data-testid="counts">
        {counts.ready} ready · {counts.pending} processing · {counts.failed} failed
      </p>
      <ErrorText error={error} />
      {ready.length > 0 && (
        <div class="row wrap">
          <button type="button" onClick={() => setSelected(new Set(ready.map((p) => p.id)))}>
            Select all ready
          </button>
          <button type="button" onClick={() => setSelected(new Set())}>
            Clear selection
          </button>
          <PriceForm selected={[...selected]} onDone={refresh} />
        </div>
      )}
      <ul class="grid studio">
        {photos.map((p, i) => {
          const url = thumbUrl(p);
          return (
            <li key={p.id} class={"status-" + p.status} data-photo-id={p.id} data-status={p.status}>
              {url ? <img src={url} alt={`Photo ${i + 1}`} width={320} height={213} loading="lazy" /> : <span class="thumb-placeholder" />}
              <span class="caption">
                {p.status === "ready" ? (
                  <label class="inline">
                    <input type="checkbox" checked={selected.has(p.id)} onChange={() => toggle(p.id)} /> Photo {i + 1} ·{" "}
                    {p.price ? money(p.price.minor, p.price.currency) : "no price"}
                  </label>
                ) : p.status === "pending" ? (
                  `Photo ${i + 1} · processing…`
                ) : (
                  <span class="error">Photo {i + 1} failed: {p.failure_reason ?? "unknown reason"}</span>
                )}
              </span>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

// ---- earnings and ledger --------------------------------------------------------------------
export function Earnings() {
  const earnings = useLoad(() => request<{ earnings: EarningsT[] }>("transactions", "GET", "/earnings"), []);
  const [lines, setLines] = useState<LedgerLine[]>([]);
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const more = async () => {
    try {
      const page = await request<{ entries: LedgerLine[]; next_cursor: string | null }>("transactions", "GET", "/wallet/ledger", {
        query: { limit: 50, cursor: cursor ?? undefined },
      });
      setLines((l) => [...l, ...page.entries]);
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
      <h1>Earnings</h1>
      <ErrorText error={earnings.error} />
      {earnings.value && earnings.value.earnings.length === 0 && <p>No sales yet.</p>}
      <ul class="cards">
        {earnings.value?.earnings.map((e) => (
          <li key={e.currency}>
            <strong>{money(e.balance_minor, e.currency)}</strong> <span class="muted">after the platform fee of {e.fee_bps / 100}%</span>
          </li>
        ))}
      </ul>
      <h2>Ledger</h2>
      <ErrorText error={error} />
      {cursor === null && lines.length === 0 && <p>No entries yet.</p>}
      {lines.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Ledger entries, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Date</th>
                <th scope="col">Kind</th>
                <th scope="col">Account</th>
                <th scope="col">Amount</th>
              </tr>
            </thead>
            <tbody>
              {lines.map((l, i) => (
                <tr key={i}>
                  <td>{l.created_at ? new Date(l.created_at).toLocaleString() : ""}</td>
                  <td>{l.entry_kind}</td>
                  <td>{l.account}</td>
                  <td class="num">{l.amount_minor !== undefined && l.currency ? money(l.amount_minor, l.currency) : ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {cursor && (
        <button type="button" onClick={more}>
          Show more
        </button>
      )}
    </section>
  );
}
