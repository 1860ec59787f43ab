/**
 * @module The product card's logo for RM's UI: our own drawing (a speech bubble holding the
 * Matrix brackets), small enough to embed, in the deployment's neutral colours.
 */
export const LOGO_SVG =
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" role="img" aria-label="Matrix">
<rect x="2" y="2" width="60" height="60" rx="14" fill="#1f2a30"/>
<path d="M14 16h36a6 6 0 0 1 6 6v18a6 6 0 0 1-6 6H30l-10 8v-8h-6a6 6 0 0 1-6-6V22a6 6 0 0 1 6-6z" fill="#e8eef0"/>
<path d="M19 22h-3v18h3M45 22h3v18h-3" fill="none" stroke="#1f2a30" stroke-width="2.5"/>
<path d="M23 36v-9m0 2a3 3 0 0 1 6 0v7m0-7a3 3 0 0 1 6 0v7M41 27v9" fill="none" stroke="#0dbd8b" stroke-width="2.5" stroke-linecap="round"/>
</svg>
`;
