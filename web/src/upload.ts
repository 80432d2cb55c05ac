// Browser uploads straight to S3 through the presigned URLs of POST /uploads.
//
// Like the CLI: each file is hashed (SHA-256), the Idempotency-Key of POST /uploads is derived
// from the event and the hash (the same bytes never become two photos), and a journal per event
// (localStorage) records the photo reserved for each hash and every multipart part S3
// acknowledged. After a reload, dropping the same files again skips those already in S3 and
// sends only the missing parts of a multipart upload.

import { ApiError, request } from "./api";
import type { PresignedMultipart, UploadStarted } from "./types";

export type FileState = "queued" | "hashing" | "uploading" | "uploaded" | "skipped" | "failed";

export interface FileProgress {
  name: string;
  size: number;
  sent: number;
  state: FileState;
  photoId?: string;
  error?: string;
}

interface JournalEntry {
  photo_id: string;
  name: string;
  size: number;
  state: "reserved" | "uploaded";
  method?: "PUT" | "MULTIPART";
  upload_id?: string;
  parts?: PresignedMultipart["parts"];
  done?: Record<string, string>;
  expires_at?: number;
}

interface Reserved {
  entry: JournalEntry;
  put?: { url: string; headers: Record<string, string> };
}

const URL_EXPIRY_MARGIN_MS = 30_000;
const WORKERS = 4;
const ATTEMPTS = 3;

function journalKey(eventId: string): string {
  return `photostack.uploads.${eventId}`;
}

export function readJournal(eventId: string): Record<string, JournalEntry> {
  try {
    return JSON.parse(localStorage.getItem(journalKey(eventId)) ?? "{}") as Record<string, JournalEntry>;
  } catch {
    return {};
  }
}

function writeEntry(eventId: string, sha: string, entry: JournalEntry): void {
  const journal = readJournal(eventId);
  journal[sha] = entry;
  localStorage.setItem(journalKey(eventId), JSON.stringify(journal));
}

/** Files reserved in an earlier visit whose bytes never all reached S3. */
export function unfinished(eventId: string): JournalEntry[] {
  return Object.values(readJournal(eventId)).filter((e) => e.state !== "uploaded");
}

export function sniffContentType(head: Uint8Array): string | null {
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return "image/jpeg";
  if (head[0] === 0x89 && head[1] === 0x50 && head[2] === 0x4e && head[3] === 0x47) return "image/png";
  const ascii = String.fromCharCode(...head.slice(0, 12));
  if (ascii.startsWith("RIFF") && ascii.slice(8, 12) === "WEBP") return "image/webp";
  return null;
}

async function sha256Hex(file: Blob): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** PUT one byte range with upload progress (fetch has none); the ETag S3 answers. */
function put(url: string, body: Blob, headers: Record<string, string>, onProgress: (loaded: number) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.getResponseHeader("ETag") ?? "");
      else reject(new ApiError(xhr.status, "storage_error", `Storage refused the file (${xhr.status})`));
    };
    xhr.onerror = () => reject(new ApiError(0, "unreachable", "Could not reach storage. Check your connection and try again"));
    xhr.send(body);
  });
}

async function putWithRetry(url: string, body: Blob, headers: Record<string, string>, onProgress: (loaded: number) => void): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await put(url, body, headers, onProgress);
    } catch (err) {
      onProgress(0);
      const retryable = err instanceof ApiError && (err.status === 0 || err.status >= 500);
      if (!retryable || attempt >= ATTEMPTS) throw err;
      await new Promise((r) => setTimeout(r, 500 * attempt));
    }
  }
}

export class Uploader {
  readonly files: FileProgress[] = [];
  private readonly blobs: File[] = [];
  private readonly claimed = new Map<string, string>();

  constructor(
    private readonly eventId: string,
    private readonly onChange: () => void,
  ) {}

  get totalBytes(): number {
    return this.files.reduce((n, f) => n + f.size, 0);
  }

  get sentBytes(): number {
    return this.files.reduce((n, f) => n + (f.state === "failed" ? f.size : f.sent), 0);
  }

  get busy(): boolean {
    return this.files.some((f) => f.state === "queued" || f.state === "hashing" || f.state === "uploading");
  }

  /** Queue files and upload them, WORKERS at a time. */
  async add(files: File[]): Promise<void> {
    const start = this.files.length;
    for (const file of files) {
      this.files.push({ name: file.webkitRelativePath || file.name, size: file.size, sent: 0, state: "queued" });
      this.blobs.push(file);
    }
    this.onChange();
    let next = start;
    const worker = async (): Promise<void> => {
      while (next < this.files.length) {
        const i = next++;
        await this.one(i);
      }
    };
    await Promise.all(Array.from({ length: Math.min(WORKERS, files.length) }, worker));
  }

  private update(i: number, patch: Partial<FileProgress>): void {
    Object.assign(this.files[i], patch);
    this.onChange();
  }

  private async one(i: number): Promise<void> {
    const file = this.blobs[i];
    try {
      this.update(i, { state: "hashing" });
      if (file.size === 0) throw new ApiError(0, "empty_file", "The file is empty");
      const contentType = sniffContentType(new Uint8Array(await file.slice(0, 16).arrayBuffer()));
      if (!contentType) throw new ApiError(0, "unsupported_file", "Not a JPEG, PNG or WebP image");
      const sha = await sha256Hex(file);
      const first = this.claimed.get(sha);
      if (first !== undefined) throw new ApiError(0, "duplicate", `Same content as ${first}`);
      this.claimed.set(sha, this.files[i].name);
      await this.send(i, file, sha, contentType);
    } catch (err) {
      const sentence = err instanceof ApiError ? err.sentence : "The upload failed. Try again.";
      this.update(i, { state: "failed", error: sentence });
    }
  }

  private async reserve(file: File, sha: string, contentType: string): Promise<Reserved> {
    const answer = await request<UploadStarted>("photos", "POST", "/uploads", {
      body: { event_id: this.eventId, content_type: contentType, size_bytes: file.size, filename: file.name.slice(0, 200) },
      headers: { "Idempotency-Key": `web:${this.eventId}:${sha}` },
    });
    const target = answer.upload;
    const entry: JournalEntry = {
      photo_id: answer.photo_id,
      name: file.name,
      size: file.size,
      state: "reserved",
      method: target.method,
      expires_at: Date.now() + target.expires_in * 1000,
    };
    if (target.method === "MULTIPART") {
      entry.upload_id = target.upload_id;
      entry.parts = target.parts;
      entry.done = {};
    }
    writeEntry(this.eventId, sha, entry);
    // A single PUT's URL is not journaled: after a reload the same key reserves the same photo again.
    return { entry, put: target.method === "PUT" ? { url: target.url, headers: target.headers } : undefined };
  }

  private async send(i: number, file: File, sha: string, contentType: string): Promise<void> {
    const known = readJournal(this.eventId)[sha];
    if (known?.state === "uploaded" && known.size === file.size) {
      this.update(i, { state: "skipped", sent: file.size, photoId: known.photo_id });
      return;
    }
    const resumable =
      known?.method === "MULTIPART" && known.size === file.size && (known.expires_at ?? 0) - URL_EXPIRY_MARGIN_MS > Date.now();
    const { entry, put: single } = resumable && known ? { entry: known, put: undefined } : await this.reserve(file, sha, contentType);
    this.update(i, { state: "uploading", photoId: entry.photo_id });
    if (single) await putWithRetry(single.url, file, single.headers, (loaded) => this.update(i, { sent: loaded }));
    else await this.sendParts(i, file, sha, entry);
    writeEntry(this.eventId, sha, { photo_id: entry.photo_id, name: entry.name, size: entry.size, state: "uploaded" });
    this.update(i, { state: "uploaded", sent: file.size });
  }

  private async sendParts(i: number, file: File, sha: string, entry: JournalEntry): Promise<void> {
    const done: Record<string, string> = { ...(entry.done ?? {}) };
    let offset = 0;
    let acknowledged = 0;
    for (const part of entry.parts ?? []) {
      const slice = file.slice(offset, offset + part.size_bytes);
      offset += part.size_bytes;
      if (done[String(part.part_number)]) {
        acknowledged += part.size_bytes;
        this.update(i, { sent: acknowledged });
        continue;
      }
      const base = acknowledged;
      const etag = await putWithRetry(part.url, slice, {}, (loaded) => this.update(i, { sent: base + loaded }));
      if (!etag) throw new ApiError(0, "storage_error", `Storage gave no ETag for part ${part.part_number}`);
      done[String(part.part_number)] = etag;
      acknowledged += part.size_bytes;
      writeEntry(this.eventId, sha, { ...entry, done });
    }
    const parts = Object.keys(done)
      .map(Number)
      .sort((a, b) => a - b)
      .map((n) => ({ part_number: n, etag: done[String(n)] }));
    try {
      await request("photos", "POST", `/uploads/${entry.photo_id}/complete`, { body: { upload_id: entry.upload_id, parts } });
    } catch (err) {
      if (err instanceof ApiError && err.code === "upload_complete") return;
      if (err instanceof ApiError && err.code === "invalid_upload") writeEntry(this.eventId, sha, { ...entry, done, expires_at: 0 });
      throw err;
    }
  }
}
