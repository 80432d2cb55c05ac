// The shapes of docs/openapi.json that the app reads (only the fields it uses).

export type Role = "customer" | "photographer" | "admin";

export interface User {
  id: string;
  email: string;
  display_name: string;
  role: Role;
  disabled: boolean;
  created_at: string;
}

export interface Tokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  refresh_expires_in: number;
  token_type: "Bearer";
  user: User;
}

export interface PhotoEvent {
  id: string;
  owner_id: string;
  name: string;
  date: string;
  place: string;
  visibility: "public" | "private";
  created_at: string | null;
}

export interface Derivative {
  url: string;
  width: number;
  height: number;
  bytes: number;
  content_type: string;
}

export interface Price {
  minor: number;
  currency: string;
}

export type PhotoStatus = "pending" | "ready" | "failed";

export interface Photo {
  id: string;
  event_id: string;
  owner_id: string;
  status: PhotoStatus;
  visibility: "public" | "private";
  price: Price | null;
  derivatives: Record<string, Derivative>;
  width?: number | null;
  height?: number | null;
  failure_reason?: string | null;
  faces?: { count: number; indexed_at: string } | null;
  size_bytes?: number;
  created_at?: string | null;
}

export interface FaceMatch {
  photo_id: string;
  score: number;
  thumb_url: string | null;
}

export interface Payment {
  payment_id: string;
  status: "pending" | "succeeded" | "failed";
  amount_minor: number;
  currency: string;
  created_at: string;
}

export interface Wallet {
  currency: string;
  balance_minor: number;
}

export interface Order {
  order_id: string;
  status: "paid" | "refunded";
  currency: string;
  total_minor: number;
  items: { photo_id: string; price_minor: number }[];
  created_at: string;
}

export interface Purchase {
  photo_id: string;
  order_id: string;
  purchased_at: string;
}

export interface LedgerLine {
  entry_id?: number;
  entry_kind?: string;
  account?: string;
  amount_minor?: number;
  currency?: string;
  reference?: string;
  created_at?: string;
}

export interface Earnings {
  currency: string;
  balance_minor: number;
  fee_bps: number;
}

export interface PresignedPut {
  method: "PUT";
  url: string;
  headers: Record<string, string>;
  expires_in: number;
}

export interface PresignedMultipart {
  method: "MULTIPART";
  upload_id: string;
  parts: { part_number: number; size_bytes: number; url: string }[];
  expires_in: number;
  complete_path: string;
}

export interface UploadStarted {
  photo_id: string;
  event_id: string;
  status: "pending";
  upload: PresignedPut | PresignedMultipart;
}

export interface FaceIndexing {
  enabled: boolean;
  faces_withheld: number;
  reference_stored: boolean;
  notice?: string;
}
