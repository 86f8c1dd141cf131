// A file imported with a `?raw` suffix is a Text module (wrangler.toml's rule): its contents as a string.
declare module '*?raw' {
  const text: string;
  export default text;
}
