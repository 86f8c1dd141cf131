// The curl command for the request the page sent, with the key as a variable: the page never
// prints the key itself, so the command can be shared.

/** A word for a POSIX shell, in single quotes. */
export function shellQuote(word) {
  return `'${String(word).replaceAll("'", "'\\''")}'`;
}

export function curlCommand({ origin, path, contentType, fileName }) {
  return [
    `curl -sS ${shellQuote(origin + path)}`,
    `  -H "authorization: Bearer $EDGEINFER_API_KEY"`,
    `  -H ${shellQuote(`content-type: ${contentType}`)}`,
    `  --data-binary @${shellQuote(fileName)}`,
  ].join(' \\\n');
}
