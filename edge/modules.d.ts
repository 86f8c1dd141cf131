// Module types for the files wrangler.toml's rules turn into Worker modules.
declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
declare module '*.onnx' {
  const bytes: ArrayBuffer;
  export default bytes;
}
// The playground's sample files (wrangler.toml's Data rule for edge/playground/samples/).
declare module '*.wav' {
  const bytes: ArrayBuffer;
  export default bytes;
}
declare module '*.png' {
  const bytes: ArrayBuffer;
  export default bytes;
}
declare module '*.txt' {
  const text: string;
  export default text;
}
