// The documentation site: `npm run docs` builds it into site/ (VitePress), then writes the API
// reference into site/api with deno doc (scripts/docs.mjs). Links to /api/ leave the VitePress app,
// hence target="_self" on them and their exclusion from VitePress' own dead-link check; the site's
// link test (test/browser/site.test.ts) checks them in the built HTML instead.
import { defineConfig } from "vitepress";

const guide = [
  { text: "Getting started", link: "/guide/getting-started" },
  { text: "The loop", link: "/guide/loop" },
  { text: "Selectors and brokers", link: "/guide/selectors-and-brokers" },
  { text: "Limits and close codes", link: "/guide/limits" },
  { text: "Authentication", link: "/guide/authentication" },
  { text: "Typed JSON messages", link: "/guide/json" },
  { text: "Testing", link: "/guide/testing" },
  { text: "Servers and frameworks", link: "/guide/servers" },
  { text: "Deploying", link: "/guide/deploying" },
];

const migrate = [
  { text: "From ws", link: "/migrate/ws" },
  { text: "From crossws hooks", link: "/migrate/crossws" },
  { text: "From Hono's upgradeWebSocket", link: "/migrate/hono" },
  { text: "From socket.io", link: "/migrate/socket-io" },
];

export default defineConfig({
  title: "wsloop",
  description: "Typed WebSocket loops for Node, Bun and Deno",
  outDir: "../site",
  cleanUrls: false,
  ignoreDeadLinks: [/^\/api\//],
  themeConfig: {
    nav: [
      { text: "Guide", link: "/guide/getting-started" },
      { text: "Migrating", link: "/migrate/ws" },
      { text: "API", link: "/api/index.html", target: "_self" },
    ],
    sidebar: [
      { text: "Guide", items: guide },
      { text: "Migrating", items: migrate },
      { text: "Reference", items: [{ text: "API reference", link: "/api/index.html", target: "_self" }] },
    ],
    outline: [2, 3],
    search: { provider: "local" },
  },
});
