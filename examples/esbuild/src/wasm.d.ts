// esbuild's `file` loader turns an imported .wasm into its URL (build.mjs).
declare module "*.wasm" {
  const url: string;
  export default url;
}
