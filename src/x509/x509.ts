/**
 * @module @peculiar/x509 with the `reflect-metadata` polyfill its dependency injection (tsyringe)
 * needs loaded first. Import X.509 types and functions from here, never from the package.
 */
import "reflect-metadata";
export * from "@peculiar/x509";
