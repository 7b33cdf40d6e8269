using System.Globalization;
using System.Net;

namespace SessionStore.Security;

/// <summary>
/// Caps the body of form posts: a larger one gets 413 with a page that says so, before any handler runs, so nothing
/// is changed. Bodies without a Content-Length are read up to the limit first.
/// </summary>
public sealed class FormSizeLimitMiddleware(RequestDelegate next, long maxBytes)
{
    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!context.Request.HasFormContentType)
        {
            await next(context);
            return;
        }

        if (context.Request.ContentLength > maxBytes)
        {
            await WriteTooLargeAsync(context);
            return;
        }

        if (context.Request.ContentLength is null && !await TryBufferWithinLimitAsync(context))
        {
            await WriteTooLargeAsync(context);
            return;
        }

        await next(context);
    }

    /// <summary>
    /// Reads a body of unknown length (chunked) into memory, up to the limit, and puts it back as the request body;
    /// false when it is larger. Forms are small, and the anti-forgery check would otherwise turn the server's own
    /// "too large" error into a 400 that does not say why.
    /// </summary>
    private async Task<bool> TryBufferWithinLimitAsync(HttpContext context)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                return false;
            }

            buffer.Write(chunk, 0, read);
        }

        buffer.Position = 0;
        context.Request.Body = buffer;
        context.Response.RegisterForDispose(buffer);
        return true;
    }

    private async Task WriteTooLargeAsync(HttpContext context)
    {
        context.Response.Clear();
        context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
        context.Response.ContentType = "text/html; charset=utf-8";
        var limit = (maxBytes / 1024.0).ToString("0.#", CultureInfo.InvariantCulture);
        var back = WebUtility.HtmlEncode(context.Request.Path.Value ?? "/");
        await context.Response.WriteAsync($"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Form too large · SessionStore</title><link rel="stylesheet" href="/css/site.css"></head>
            <body><main>
            <h1>That form is too large</h1>
            <p id="form-too-large">This shop accepts forms of up to {limit} KB. Nothing was saved: your cart and your sign-in are as they were.</p>
            <p><a href="{back}">Go back</a> and send less.</p>
            </main></body></html>
            """);
    }
}
