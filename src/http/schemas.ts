/**
 * @module The contract's JSON shapes (python-libpvarki's schemas) as zod schemas with OpenAPI
 * metadata. Request bodies are strict: RM's own models forbid extra fields, and so do we.
 */
import { z } from "@hono/zod-openapi";

export const UserCRUDRequest = z.strictObject({
  uuid: z.string().min(1).max(200).openapi({ example: "6f1c1b36-7c1b-4f54-9d86-3f3c2d8e0a11" }),
  callsign: z.string().min(1, { message: 'Cannot map callsign "" to a Matrix ID: it is empty' })
    .max(200).regex(/^\S(?:[\s\S]*\S)?$/, {
      message: "Cannot map the callsign to a Matrix ID: it has leading or trailing whitespace",
    }).openapi({
      example: "ROTTA01a",
      description: "The person's callsign. 422 when it cannot be a Matrix ID: empty, leading or " +
        "trailing whitespace, not valid Unicode, or a Matrix ID over 255 bytes once mapped " +
        "(lower-cased, bytes outside a-z 0-9 _ - . / + escaped as =xx). 409 on lifecycle routes " +
        "when it maps to the service's own bot or its recovery admins.",
    }),
  x509cert: z.string().max(32 * 1024).openapi({
    description: "The person's certificate as PEM; CRUD callbacks escape newlines as `\\n`.",
  }),
}).openapi("UserCRUDRequest");
export type UserCRUDRequest = z.infer<typeof UserCRUDRequest>;

export const OperationResultResponse = z.strictObject({
  success: z.boolean(),
  extra: z.string().nullable().optional(),
  error: z.string().nullable().optional(),
}).openapi("OperationResultResponse");

export const ProductHealthCheckResponse = z.strictObject({
  healthy: z.boolean(),
  extra: z.string().nullable().optional(),
}).openapi("ProductHealthCheckResponse");

const descriptionFields = {
  shortname: z.string(),
  title: z.string(),
  icon: z.string().nullable(),
  description: z.string(),
  language: z.string(),
};

export const ProductDescription = z.strictObject(descriptionFields).openapi("ProductDescription");

export const ProductComponent = z.strictObject({
  type: z.enum(["link", "markdown", "component"]),
  ref: z.string(),
}).openapi("ProductComponent");

// One closed object, not `ProductDescription.extend(…)`: that is rendered as an `allOf` of two
// closed schemas, which no object satisfies.
export const ProductDescriptionExtended = z.strictObject({
  ...descriptionFields,
  docs: z.string().nullable().optional(),
  component: ProductComponent,
}).openapi("ProductDescriptionExtended");

export const UserInstructionFragment = z.strictObject({
  html: z.string(),
  inject_css: z.string().nullable().optional(),
}).openapi("UserInstructionFragment");

export const InstructionsResponse = z.strictObject({
  callsign: z.string(),
  language: z.string(),
  instructions: z.record(z.string(), z.unknown()),
}).openapi("ProductInstructions");

export const ClientDataResponse = z.strictObject({
  data: z.record(z.string(), z.unknown()),
}).openapi("ProductData");

export const ClientFile = z.strictObject({
  title: z.string(),
  filename: z.string(),
  data: z.string().openapi({ description: "A `data:<mime>;base64,...` URI" }),
}).openapi("ClientFile");

export const LanguageParam = z.object({
  lang: z.string().regex(/^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$/, {
    message: "must be a language tag such as fi, sv or en",
  }).openapi({ param: { name: "lang", in: "path" }, example: "fi" }),
});
