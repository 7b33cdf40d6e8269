using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Http.Features;

namespace SessionStore.Security;

/// <summary>
/// Caps the body of form posts: a larger one gets 413 with a page that says so, before any handler runs, so nothing
/// is changed. Bodies without a Content-Length are cut off by the server at the same limit.
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

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = maxBytes;
        }

        try
        {
            await next(context);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge && !context.Response.HasStarted)
        {
            await WriteTooLargeAsync(context);
        }
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
            <html lang="en"><head><meta charset="utf-8"><title>Form too large</title></head>
            <body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto">
            <h1>That form is too large</h1>
            <p id="form-too-large">This shop accepts forms of up to {limit} KB. Nothing was saved: your cart and your sign-in are as they were.</p>
            <p><a href="{back}">Go back</a> and send less.</p>
            </body></html>
            """);
    }
}
