import { z } from 'zod';

/** Field types several config sections use. */

export const seconds = z.number().int().nonnegative();
export const positiveSeconds = z.number().int().positive();
export const name = z.string().min(1).max(255);
export const regionSchema = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as us-east-1');
export const accountSchema = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');
/** IAM role ARN (the IAM User Guide's "IAM identifiers": path and name of [\w+=,.@-]). */
export const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;

export function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/** 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}
