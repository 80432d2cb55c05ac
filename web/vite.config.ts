import { defineConfig } from "vite";

// Served from an S3 bucket under a path (http://127.0.0.1:4566/<bucket>/index.html locally,
// the bucket's website root on AWS): relative asset URLs work in both.
export default defineConfig({
  base: "./",
  build: {
    target: "es2022",
    outDir: "dist",
    assetsInlineLimit: 0,
    reportCompressedSize: true,
  },
  oxc: {
    jsx: { runtime: "automatic", importSource: "preact" },
  },
});
