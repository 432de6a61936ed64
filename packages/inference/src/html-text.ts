// HTML to readable text, for features: what a reader of the email would see, plus the link
// targets (which a reader sees on hover and which say a lot about who sent it).

// HTML 4's Latin-1 entities in code point order, U+00A0 to U+00FF.
const latin1EntityNames =
  'nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg plusmn sup2 sup3 acute micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest Agrave Aacute Acirc Atilde Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ETH Ntilde Ograve Oacute Ocirc Otilde Ouml times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN szlig agrave aacute acirc atilde auml aring aelig ccedil egrave eacute ecirc euml igrave iacute icirc iuml eth ntilde ograve oacute ocirc otilde ouml divide oslash ugrave uacute ucirc uuml yacute thorn yuml'.split(
    ' ',
  );

const namedEntities: Record<string, string> = {
  ...Object.fromEntries(latin1EntityNames.map((name, i) => [name, String.fromCharCode(0xa0 + i)])),
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  trade: '™',
  euro: '€',
  bull: '•',
  hellip: '…',
  mdash: '—',
  ndash: '–',
  lsquo: '‘',
  rsquo: '’',
  ldquo: '“',
  rdquo: '”',
};

/** Replaces `&name;`, `&#123;` and `&#x1F;` references; unknown names stay as written. */
export function decodeHtmlEntities(s: string): string {
  return s.replace(
    /&(#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z][a-zA-Z0-9]{1,31});?/g,
    (m, ref) => {
      if (ref[0] === '#') {
        const code =
          ref[1] === 'x' || ref[1] === 'X'
            ? Number.parseInt(ref.slice(2), 16)
            : Number(ref.slice(1));
        return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : m;
      }
      return namedEntities[ref] ?? namedEntities[ref.toLowerCase()] ?? m;
    },
  );
}

const blockTags =
  /<\/?(?:br|p|div|tr|li|ul|ol|table|h[1-6]|blockquote|pre|hr|title|center|dd|dt|dl)\b[^>]*>/gi;

export interface HtmlText {
  text: string;
  links: string[];
}

/** Strips markup: drops comments, scripts, styles; block tags become newlines; cells spaces. */
export function htmlToText(html: string): HtmlText {
  const links: string[] = [];
  for (const m of html.matchAll(
    /<(?:a|area|img|form)\b[^>]*?\b(?:href|src|action)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)/gi,
  )) {
    const value = m[1]!.replace(/^["']|["']$/g, '').trim();
    if (value) links.push(decodeHtmlEntities(value));
  }
  const text = html
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<(script|style|head)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(blockTags, '\n')
    .replace(/<\/?t[dh]\b[^>]*>/gi, ' ')
    .replace(/<[a-zA-Z!/?][^>]*>/g, '')
    .replace(/[ \t\r\f\v]+/g, ' ');
  return {
    text: decodeHtmlEntities(text)
      .replace(/\u00a0/g, ' ')
      .replace(/\n\s*\n+/g, '\n\n')
      .trim(),
    links,
  };
}
