// The chat page's scripts by path, made at bundle time (see page-scripts.ts).
declare module "wsloop-example:page-scripts" {
  const scripts: Record<string, string>;
  export default scripts;
}
