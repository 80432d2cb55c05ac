// Small shared pieces: routing, money, messages, images of a photo, the cart.

import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { describe } from "./api";
import type { Photo, Price } from "./types";

// ---- hash routing (the bucket serves one index.html; no server-side routes) -------------
export function currentPath(): string {
  return location.hash.replace(/^#/, "") || "/";
}

/** A value kept outside the components (the URL, localStorage, the session): read when the
 *  component first renders and again on every change. It is read once more right after
 *  subscribing, because effects run only after the next frame: a change in between (a link
 *  followed while the app was still starting) would otherwise never reach the component. */
export function useExternal<T>(read: () => T, subscribe: (changed: () => void) => () => void): T {
  const [value, setValue] = useState(read);
  useEffect(() => {
    const changed = () => setValue(read());
    const unsubscribe = subscribe(changed);
    changed();
    return unsubscribe;
  }, []);
  return value;
}

function onWindow(...events: string[]): (changed: () => void) => () => void {
  return (changed) => {
    events.forEach((e) => addEventListener(e, changed));
    return () => events.forEach((e) => removeEventListener(e, changed));
  };
}

export function usePath(): string {
  return useExternal(currentPath, onWindow("hashchange"));
}

export function go(path: string): void {
  location.hash = "#" + path;
}

// ---- money -------------------------------------------------------------------------------
export function money(minor: number, currency: string): string {
  return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(minor / 100);
}

export function parseMinor(text: string): number | null {
  const m = /^\s*(\d{1,7})(?:[.,](\d{1,2}))?\s*$/.exec(text);
  if (!m) return null;
  return Number(m[1]) * 100 + Number((m[2] ?? "0").padEnd(2, "0"));
}

export const CURRENCIES = ["EUR", "USD", "GBP", "CHF"] as const;

// ---- messages ------------------------------------------------------------------------------
export function ErrorText({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {describe(error)}
    </p>
  );
}

export function Notice({ children }: { children: ComponentChildren }) {
  return (
    <p class="notice" role="status">
      {children}
    </p>
  );
}

/** Run an async loader on mount and when `deps` change: its value, its error, and a reload. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { value: T | undefined; error: unknown; reload: () => void } {
  const [value, setValue] = useState<T>();
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setError(null);
    load().then(
      (v) => live && setValue(v),
      (e) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { value, error, reload: () => setTick((t) => t + 1) };
}

// ---- photo images: non-buyers get the thumbnail and the watermarked preview ------------
const THUMB_KINDS = ["thumb_webp", "thumb_jpg", "thumb"];
const PREVIEW_KINDS = ["preview_webp", "preview_jpg", "preview", "web_webp", "web_jpg", "web"];

export function thumbUrl(photo: Photo): string | null {
  const kind = THUMB_KINDS.find((k) => photo.derivatives[k]);
  return kind ? photo.derivatives[kind].url : null;
}

export function previewUrl(photo: Photo): string | null {
  const kind = PREVIEW_KINDS.find((k) => photo.derivatives[k]);
  return kind ? photo.derivatives[kind].url : thumbUrl(photo);
}

// ---- the cart (kept in this browser) -------------------------------------------------------
export interface CartItem {
  photoId: string;
  eventId: string;
  price: Price;
}

const CART_KEY = "photostack.cart";

export function readCart(): CartItem[] {
  try {
    return JSON.parse(localStorage.getItem(CART_KEY) ?? "[]") as CartItem[];
  } catch {
    return [];
  }
}

export function writeCart(items: CartItem[]): void {
  localStorage.setItem(CART_KEY, JSON.stringify(items));
  dispatchEvent(new Event("photostack-cart"));
}

export function useCart(): [CartItem[], (items: CartItem[]) => void] {
  return [useExternal(readCart, onWindow("photostack-cart", "storage")), writeCart];
}

export function fileToDataUrl(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}
