/**
 * @module The kraftwerk manifest (`/pvarki/kraftwerk-init.json`): its schema, the development
 * fallback the ecosystem uses when the file is missing, and the values derived from it.
 */
import { z } from "zod";

const httpsUrl = z.url({ protocol: /^https?$/ }).refine((u) => u.endsWith("/"), {
  message: "must end with '/'",
});

/** The parts of the manifest this service reads; other keys are allowed and ignored. */
export const ManifestSchema = z.object({
  deployment: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, {
    message: "must be lower-case letters, digits, '-' or '_' (it prefixes room aliases)",
  }),
  rasenmaeher: z.object({
    // csr_jwt: the one-time token for the product certificate (never logged or shown).
    init: z.object({ base_uri: httpsUrl, csr_jwt: z.string().optional() }).loose().optional(),
    mtls: z.object({ base_uri: httpsUrl }).loose().optional(),
    certcn: z.string().min(1),
  }).loose(),
  product: z.object({
    dns: z.string().regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/i, {
      message: "must be a host name with at least two labels",
    }),
    api: httpsUrl.optional(),
    uri: httpsUrl.optional(),
  }).loose(),
}).loose();

export type Manifest = z.infer<typeof ManifestSchema>;

/** What the ecosystem falls back to on a developer machine with no manifest mounted. */
export const DEVELOPMENT_MANIFEST: Manifest = {
  deployment: "manifest_notfound",
  rasenmaeher: {
    init: { base_uri: "https://localmaeher.dev.pvarki.fi:4439/" },
    mtls: { base_uri: "https://mtls.localmaeher.dev.pvarki.fi:4439/" },
    certcn: "rasenmaeher",
  },
  product: {
    dns: "matrix.localmaeher.dev.pvarki.fi",
    api: "https://matrix.localmaeher.dev.pvarki.fi:4439/",
    uri: "https://matrix.localmaeher.dev.pvarki.fi:4439/",
  },
};

/** `product.dns` minus its first label: `matrix.example.org` → `example.org`. */
export function serverNameFromProductDns(dns: string): string {
  return dns.slice(dns.indexOf(".") + 1).toLowerCase();
}
