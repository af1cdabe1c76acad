-- Neovim (0.10+): `sorchac lsp` for .sorcha files. Put this file on your runtime path
-- (for example ~/.config/nvim/plugin/sorcha.lua).
vim.filetype.add({ extension = { sorcha = "sorcha" } })

vim.api.nvim_create_autocmd("FileType", {
  pattern = "sorcha",
  callback = function(args)
    vim.bo[args.buf].commentstring = "// %s"
    vim.lsp.start({
      name = "sorchac",
      cmd = { "sorchac", "lsp" },
      root_dir = vim.fs.root(args.buf, { "platform.sorcha", ".git" }),
    })
  end,
})
